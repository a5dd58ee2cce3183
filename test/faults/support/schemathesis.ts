import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Pinned so every machine fuzzes with the same generator. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/** Where schemathesis was installed, or why it could not be. */
export interface SchemathesisInstall {
  bin?: string;
  pythonPath?: string;
  unavailable?: string;
}

/**
 * Installs schemathesis from PyPI into `.tools/schemathesis` (git-ignored, outside the system
 * Python) unless it is already there. A failed install is reported, not thrown: the poison
 * scenario then runs its fast-check half only and says so in its log and in RELIABILITY.md.
 */
export async function ensureSchemathesis(root: string): Promise<SchemathesisInstall> {
  const target = join(root, '.tools', 'schemathesis');
  const install = { bin: join(target, 'bin', 'schemathesis'), pythonPath: target };
  if (await runs(install)) return install;
  console.log(`[faults] installing schemathesis==${SCHEMATHESIS_VERSION} into .tools/schemathesis with pip`);
  let reason = 'it does not run after the install';
  try {
    await execFileAsync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--upgrade', '--target', target, `schemathesis==${SCHEMATHESIS_VERSION}`],
      { maxBuffer: 32 * 1024 * 1024, timeout: 600_000 },
    );
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join(' / ');
    reason = `${(error as Error).message.split('\n')[0]} ${stderr}`;
  }
  if (await runs(install)) return install;
  const unavailable = `pip could not install schemathesis==${SCHEMATHESIS_VERSION}: ${reason}`;
  console.warn(`[faults] WARNING: ${unavailable}; the poison scenario will run without it`);
  return { unavailable };
}

async function runs(install: { bin: string; pythonPath: string }): Promise<boolean> {
  try {
    await execFileAsync(install.bin, ['--version'], { env: { ...process.env, PYTHONPATH: install.pythonPath }, timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

export interface SchemathesisRun {
  exitCode: number;
  output: string;
}

/** Runs `schemathesis run` against a live OpenAPI document; fails only on 5xx answers (not_a_server_error). */
export async function runSchemathesis(
  install: SchemathesisInstall,
  options: { openapiUrl: string; apiKey: string; cwd: string; seed: number; maxExamples: number },
): Promise<SchemathesisRun> {
  if (!install.bin || !install.pythonPath) throw new Error(`schemathesis is not installed: ${install.unavailable}`);
  const args = [
    'run',
    options.openapiUrl,
    '--checks',
    'not_a_server_error',
    '--header',
    `Authorization: Bearer ${options.apiKey}`,
    '--seed',
    String(options.seed),
    '--max-examples',
    String(options.maxExamples),
    '--workers',
    '1',
    '--phases',
    'examples,coverage,fuzzing',
    '--suppress-health-check',
    'all',
    '--request-timeout',
    '30',
    '--wait-for-schema',
    '30',
    '--generation-database',
    'none',
    '--no-color',
  ];
  try {
    const { stdout, stderr } = await execFileAsync(install.bin, args, {
      cwd: options.cwd,
      // Its example database (.hypothesis) and any report go to cwd, a scratch folder.
      env: { PATH: process.env.PATH, HOME: options.cwd, PYTHONPATH: install.pythonPath, NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: typeof code === 'number' ? code : -1, output: `${stdout ?? ''}${stderr ?? ''}${typeof code === 'number' ? '' : String(error)}` };
  }
}
