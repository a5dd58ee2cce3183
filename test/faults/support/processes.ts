import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a process ended: an exit code, or the signal that ended it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Enough of a process's output to explain a failure in the test report. */
const TAIL_CHARS = 6_000;

/** Every process the suite started and has not seen exit: killed when the test process ends, whatever happens. */
const running = new Set<ManagedProcess>();
process.on('exit', () => {
  for (const managed of running) managed.child.kill('SIGKILL');
});

/**
 * A real child process of the fault suite (API, worker, Temporal dev server) with its output
 * captured in a log file, so a scenario can kill it with any signal and still explain what it did.
 */
export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private tail = '';
  private readonly log: WriteStream;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
    this.log = createWriteStream(logFile, { flags: 'a' });
    const capture = (chunk: Buffer) => {
      this.log.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        capture(Buffer.from(`\n[fault-suite] could not start ${name}: ${error.message}\n`));
        running.delete(this);
        resolve({ code: -1, signal: null });
      });
      // 'close' comes after the output streams are drained, so the tail is complete.
      child.once('close', (code, signal) => {
        running.delete(this);
        this.log.end();
        resolve({ code, signal });
      });
    });
    running.add(this);
  }

  static start(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string }): ManagedProcess {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const managed = new ManagedProcess(name, child, options.logFile);
    managed.log.write(`\n[fault-suite] ${new Date().toISOString()} started ${name} (pid ${child.pid}): ${command} ${args.join(' ')}\n`);
    return managed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && running.has(this);
  }

  /** The last few thousand characters it wrote, for failure messages. */
  outputTail(): string {
    return this.tail;
  }

  /** Sends a signal without waiting for its effect. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Sends a signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not ended after graceMs. */
  async stop(graceMs = 30_000): Promise<ProcessExit> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Polls `ready` until it returns true; fails at once, with the process's output, when the
   * process dies first, and after timeoutMs otherwise.
   */
  async waitUntil(what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (!this.alive) {
        const exit = await this.exited;
        throw new Error(`${this.name} exited (${describeExit(exit)}) before it was ${what}; log ${this.logFile}:\n${this.tail}`);
      }
      try {
        if (await ready()) return;
      } catch (error) {
        lastError = error;
      }
      await sleep(200);
    }
    throw new Error(
      `${this.name} was not ${what} within ${timeoutMs / 1000} s${lastError ? ` (${String(lastError)})` : ''}; log ${this.logFile}:\n${this.tail}`,
    );
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** Kills every process the suite still runs; afterAll hooks call it so nothing outlives a scenario. */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...running].map((managed) => managed.kill('SIGKILL')));
}
