import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../../src/config/project-root.js';
import { locateTemporalCli } from '../../../dev/temporal-cli.js';
import { createTemplateDatabase } from '../../support/test-database.js';
import { clearResults, writeReliabilityDoc } from './results.js';
import { ensureSchemathesis, type SchemathesisInstall } from './schemathesis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCliPath: string;
    schemathesis: SchemathesisInstall;
  }
}

const execFileAsync = promisify(execFile);
const ROOT = projectRoot();
/** What `npm run build` reads; dist is stale when any of it is newer than the bundle it writes last. */
const BUILD_INPUTS = ['src', 'workflows', 'activities', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const BUILD_OUTPUT = join(ROOT, 'dist', 'workflow-bundle.js');

/**
 * Once per `npm run test:faults`: the production build the scenarios run (`node dist/src/…`),
 * a template database migrated by the production `migrate` entry point, the Temporal CLI, and
 * schemathesis when pip can install it. The teardown regenerates docs/RELIABILITY.md.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  clearResults();
  await buildIfStale();

  // Migrated by the production entry point, as a deployment runs it.
  const template = await createTemplateDatabase('faults_', (url) =>
    execFileAsync(process.execPath, ['dist/src/migrate.js'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url } }),
  );

  const cli = await locateTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, projectRoot: ROOT, log: (message) => console.log(`[faults] ${message}`) });
  if (cli === undefined) throw new Error('The fault suite needs the Temporal CLI (it restarts the dev server on its database file): set TEMPORAL_CLI_PATH');

  project.provide('templateDatabaseUrl', template.url);
  project.provide('temporalCliPath', cli);
  project.provide('schemathesis', await ensureSchemathesis(ROOT));

  return async () => {
    writeReliabilityDoc(Date.now() - startedAt);
    await template.drop();
  };
}

async function buildIfStale(): Promise<void> {
  const builtAt = existsSync(BUILD_OUTPUT) ? statSync(BUILD_OUTPUT).mtimeMs : 0;
  const newest = Math.max(...BUILD_INPUTS.map((input) => newestModification(join(ROOT, input))));
  if (builtAt > newest) return;
  console.log(`[faults] ${builtAt === 0 ? 'no build yet' : 'dist is older than the sources'}: npm run build`);
  try {
    await execFileAsync('npm', ['run', 'build', '--silent'], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

function newestModification(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((entry) => newestModification(join(path, entry))));
}
