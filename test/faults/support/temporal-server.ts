import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { findFreePort } from '../../../src/common/free-port.js';
import { DELIVERY_SEARCH_ATTRIBUTES } from '../../../contract/search-attributes.js';
import { ManagedProcess, type ProcessExit } from './processes.js';

const NAMESPACE = 'default';
const READY_TIMEOUT_MS = 90_000;

/**
 * A Temporal dev server whose state lives in an SQLite file, so a scenario can stop it and start
 * it again on the same file and port: workflows, timers and pending activities survive, as they
 * would across a restart of a real cluster.
 */
export class TemporalServer {
  private process: ManagedProcess | undefined;
  private starts = 0;

  private constructor(
    private readonly cliPath: string,
    readonly port: number,
    readonly dbFile: string,
    private readonly logFile: string,
    private readonly cwd: string,
  ) {}

  static async start(options: { cliPath: string; dbFile: string; logFile: string; cwd: string }): Promise<TemporalServer> {
    const server = new TemporalServer(options.cliPath, await findFreePort(), options.dbFile, options.logFile, options.cwd);
    await server.startAgain();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process?.alive ?? false;
  }

  /** Starts the server (again) on the same port and database file, and waits until it serves the namespace. */
  async startAgain(): Promise<void> {
    if (this.running) throw new Error('Temporal dev server is already running');
    this.starts += 1;
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless', '--namespace', NAMESPACE];
    args.push('--db-filename', this.dbFile, '--log-level', 'warn');
    for (const { name, type } of DELIVERY_SEARCH_ATTRIBUTES) {
      args.push('--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`);
    }
    const process = ManagedProcess.start(`temporal#${this.starts}`, this.cliPath, args, { env: globalThis.process.env, cwd: this.cwd, logFile: this.logFile });
    this.process = process;
    await process.waitUntil('serving namespace "default"', () => this.serves(), READY_TIMEOUT_MS);
  }

  /** SIGKILL, like a crashed server; SIGTERM for an orderly stop. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessExit | undefined> {
    if (!this.process) return undefined;
    return signal === 'SIGTERM' ? this.process.stop(15_000) : this.process.kill(signal);
  }

  private async serves(): Promise<boolean> {
    const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
    try {
      await connection.withDeadline(Date.now() + 5_000, () => connection.workflowService.describeNamespace({ namespace: NAMESPACE }));
      return true;
    } finally {
      await connection.close();
    }
  }
}
