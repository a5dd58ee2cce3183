import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const FOLDERS = ['contract', 'workflows', 'activities', 'src', 'dev', 'test', 'bench'];

/** Every import that breaks a rule of .dependency-cruiser.cjs among the top-level folders of `baseDir`. */
async function violations(baseDir: string): Promise<string[]> {
  const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  const { output } = await cruise(FOLDERS, { ...options, baseDir }, undefined, { tsConfig: extractTSConfig(join(baseDir, 'tsconfig.json')) });
  // A package is named from node_modules/ on, wherever its real path is.
  const named = (path: string) => path.replace(/^.*?node_modules\//, 'node_modules/');
  return (output as ICruiseResult).summary.violations.map(({ rule, from, to }) => `${rule.name}: ${from} → ${named(to)}`).sort();
}

describe('import boundaries between top-level folders', () => {
  it('hold in this repository', async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 60_000);

  describe('refuse each forbidden import', () => {
    let fixture: string;
    // One file per folder; each comment names the rule the line above it must trip, or why it is allowed.
    const files: Record<string, string> = {
      'contract/keys.ts': [
        "import { SearchAttributeType } from '@temporalio/common';", // allowed: workflow-safe
        "import { request } from 'undici';", // contract-is-workflow-safe
        "import { join } from 'node:path';", // contract-is-workflow-safe
        "import { outage } from '../src/database-errors.js';", // contract-imports-nothing-of-ours
        'export const keys = [SearchAttributeType, request, join, outage];',
      ].join('\n'),
      'workflows/flow.ts': [
        "import { keys } from '../contract/keys.js';", // allowed
        "import type { send } from '../activities/send.js';", // workflows-import-only-the-contract, though type-only
        "import { readFile } from 'node:fs/promises';", // workflows-use-no-node-built-ins
        'export const flow: typeof send | undefined = undefined; export const used = [keys, readFile];',
      ].join('\n'),
      'activities/send.ts': [
        "import { keys } from '../contract/keys.js';", // allowed
        "import { outage } from '../src/database-errors.js';", // activities-import-only-the-contract
        'export const send = () => [keys, outage];',
      ].join('\n'),
      'src/database-errors.ts': 'export const outage = 1;',
      'src/worker.ts': [
        "import { keys } from '../contract/keys.js';", // allowed
        "import { send } from '../activities/send.js';", // allowed
        "import { flow } from '../workflows/flow.js';", // allowed
        "import { start } from '../dev/dev.js';", // src-does-not-import-dev-or-tests
        'export const worker = [keys, send, flow, start];',
      ].join('\n'),
      'dev/dev.ts': [
        "import { worker } from '../src/worker.js';", // allowed
        "import { send } from '../activities/send.js';", // dev-imports-src-and-contract
        'export const start = () => [worker, send];',
      ].join('\n'),
      'test/everything.test.ts': [
        "import { flow } from '../workflows/flow.js';", // allowed: tests may import anything
        "import { start } from '../dev/dev.js';", // allowed
        'export const all = [flow, start];',
      ].join('\n'),
      'bench/run.ts': "import { worker } from '../src/worker.js';\nexport const run = worker;", // allowed
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: FOLDERS }),
      'package.json': JSON.stringify({ name: 'fixture', type: 'module', dependencies: { '@temporalio/common': '*', undici: '*' } }),
    };

    beforeAll(async () => {
      fixture = await mkdtemp(join(tmpdir(), 'import-boundaries-'));
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(fixture, path)), { recursive: true });
        await writeFile(join(fixture, path), text);
      }
      // The packages resolve as they do in the repository, so npm imports are classified as such.
      await symlink(join(ROOT, 'node_modules'), join(fixture, 'node_modules'), 'dir');
    });
    afterAll(async () => {
      if (fixture) await rm(fixture, { recursive: true, force: true });
    });

    it('and nothing else', async () => {
      expect(await violations(fixture)).toEqual(
        [
          'activities-import-only-the-contract: activities/send.ts → src/database-errors.ts',
          'contract-imports-nothing-of-ours: contract/keys.ts → src/database-errors.ts',
          'contract-is-workflow-safe: contract/keys.ts → path',
          'contract-is-workflow-safe: contract/keys.ts → node_modules/undici/index.js',
          'dev-imports-src-and-contract: dev/dev.ts → activities/send.ts',
          'src-does-not-import-dev-or-tests: src/worker.ts → dev/dev.ts',
          'workflows-import-only-the-contract: workflows/flow.ts → activities/send.ts',
          'workflows-use-no-node-built-ins: workflows/flow.ts → fs/promises',
        ].sort(),
      );
    }, 60_000);
  });
});
