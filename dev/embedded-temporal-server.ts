import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { findFreePort } from '../src/common/free-port.js';
import { DELIVERY_SEARCH_ATTRIBUTES } from '../contract/search-attributes.js';
import { locateTemporalCli } from './temporal-cli.js';

/**
 * A Temporal dev server owned by this process (`npm run dev`, tests). Production points
 * TEMPORAL_ADDRESS at a real cluster instead.
 */
export interface EmbeddedTemporal {
  /** host:port of the gRPC frontend. */
  address: string;
  /** Web UI, when enabled. */
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

export interface StartEmbeddedTemporalOptions {
  projectRoot: string;
  /** TEMPORAL_CLI_PATH. */
  cliPath?: string;
  namespace: string;
  /** 0 or unset: a free port. */
  port?: number;
  /** 0 or unset: a free port. */
  uiPort?: number;
  /** Default true: `npm run dev` is for humans, who want the Web UI; tests pass false. */
  ui?: boolean;
  /** SQLite file that keeps workflows across restarts; unset: in memory. */
  dbFile?: string;
  log: (m: string) => void;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Enough of stderr to show why the server died, without holding its whole log in memory. */
const STDERR_TAIL_CHARS = 4_000;

export async function startEmbeddedTemporal(options: StartEmbeddedTemporalOptions): Promise<EmbeddedTemporal> {
  const ui = options.ui ?? true;
  const port = options.port || (await findFreePort());
  const uiPort = ui ? options.uiPort || (await findFreePort()) : undefined;
  if (options.dbFile !== undefined) {
    // The CLI does not create missing folders and would exit with an SQLite "unable to open" error.
    await mkdir(dirname(options.dbFile), { recursive: true });
  }

  const cli = await locateTemporalCli({ cliPath: options.cliPath, projectRoot: options.projectRoot, log: options.log });
  const server = { port, uiPort, namespace: options.namespace, dbFile: options.dbFile, log: options.log };
  return cli !== undefined ? startCliServer(cli, server) : startSdkServer(server);
}

interface ServerSettings {
  port: number;
  uiPort: number | undefined;
  namespace: string;
  dbFile: string | undefined;
  log: (m: string) => void;
}

async function startCliServer(cli: string, settings: ServerSettings): Promise<EmbeddedTemporal> {
  const { port, uiPort, namespace, dbFile, log } = settings;
  const address = `${HOST}:${port}`;
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  args.push(...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']));
  if (dbFile !== undefined) args.push('--db-filename', dbFile);
  for (const { name, type } of DELIVERY_SEARCH_ATTRIBUTES) {
    // Registered at launch so workflows can be started with them before any worker has run.
    args.push('--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`);
  }

  log(`Starting Temporal dev server (${cli}) on ${address}${dbFile !== undefined ? `, state in ${dbFile}` : ''}`);
  // stdout only repeats the addresses we chose; stderr is kept for error reports.
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });

  // Unexpected deaths after startup are logged; before it, startup itself fails with the reason.
  let ready = false;
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not be started: ${error.message}`));
    // 'close' rather than 'exit': it comes after stderr is drained, so the tail is complete.
    child.once('close', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  // A dev server left behind would hold its ports and SQLite file; 'exit' handlers must be
  // synchronous, so a signal is all that can be sent here.
  const killOnParentExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnParentExit);
  void exited.then((reason) => {
    process.off('exit', killOnParentExit);
    if (ready && !stopping) log(`Temporal dev server ${reason}\n${stderrTail}`);
  });

  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilReady(address, namespace, child, exited, () => stderrTail);
  } catch (error) {
    await stop();
    throw error;
  }
  ready = true;
  const uiUrl = uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined;
  log(`Temporal dev server ready at ${address}${uiUrl !== undefined ? `, Web UI ${uiUrl}` : ''}`);
  return { address, uiUrl, stop };
}

/**
 * Polls until the frontend accepts connections and knows the namespace: the caller's first
 * act is to start workflows there, so "port open" alone is not ready enough.
 */
async function waitUntilReady(
  address: string,
  namespace: string,
  child: ChildProcess,
  exited: Promise<string>,
  stderrTail: () => string,
): Promise<void> {
  const failOnExit = exited.then((reason) => {
    throw new Error(`Temporal dev server ${reason} before it was ready (${child.spawnfile}):\n${stderrTail()}`);
  });
  // Attached now so an exit after a successful start is not reported as an unhandled rejection.
  failOnExit.catch(() => undefined);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Promise.race([Connection.connect({ address, connectTimeout: 2_000 }), failOnExit]);
      await Promise.race([connection.workflowService.describeNamespace({ namespace }), failOnExit]);
      return;
    } catch (error) {
      // Refused connections are expected while the server boots; a dead server is caught below.
      lastError = error;
    } finally {
      await connection?.close();
    }
    await Promise.race([sleep(250), failOnExit]);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `Temporal dev server at ${address} did not serve namespace "${namespace}" within ${READY_TIMEOUT_MS / 1000} s: ${reason}\n${stderrTail()}`,
  );
}

/**
 * No CLI binary anywhere: let the SDK download and run one. Works on machines with internet
 * access; the first run downloads the CLI into the OS temp folder.
 */
async function startSdkServer(settings: ServerSettings): Promise<EmbeddedTemporal> {
  const { port, uiPort, namespace, dbFile, log } = settings;
  log(`Starting Temporal dev server through the Temporal SDK download on ${HOST}:${port}`);
  // Imported lazily: @temporalio/testing is a dev dependency, absent from production images,
  // where this module is still loaded but never reaches this path.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: HOST,
      port,
      ui: uiPort !== undefined,
      uiPort,
      dbFilename: dbFile,
      namespace,
      searchAttributes: DELIVERY_SEARCH_ATTRIBUTES,
    },
  }).catch((error: unknown) => {
    // Offline, the SDK only reports a failed download; say what the developer can do about it.
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `No Temporal CLI found and the SDK's dev server did not start (${reason}). ` +
        `Set TEMPORAL_CLI_PATH to a temporal binary, or TEMPORAL_ADDRESS to a running server.`,
      { cause: error },
    );
  });
  const uiUrl = uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined;
  log(`Temporal dev server ready at ${env.address}${uiUrl !== undefined ? `, Web UI ${uiUrl}` : ''}`);
  return { address: env.address, uiUrl, stop: () => env.teardown() };
}
