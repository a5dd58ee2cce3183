import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './stats.js';

/** A Node child process of the benchmark: its log file, its RSS, and request/reply over IPC. */
export interface BenchChild {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Resident set size in KiB, read from /proc/<pid>/status; undefined once it has exited. */
  rssKiB(): number | undefined;
  /** Sends `message` with a sequence number and resolves with the reply carrying it. */
  call<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with the first IPC message of this type. */
  nextMessage<T>(type: string, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
  exited: Promise<string>;
}

const children = new Set<BenchChild>();
let sequence = 0;

// Children never outlive the benchmark, whatever ends it.
process.on('exit', () => {
  for (const child of children) child.child.kill('SIGKILL');
});

export interface SpawnOptions {
  name: string;
  script: string;
  env: Record<string, string | undefined>;
  execArgv?: string[];
  logDir: string;
}

export function spawnNode({ name, script, env, execArgv = [], logDir }: SpawnOptions): BenchChild {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...execArgv, script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`${name} exited with ${signal ?? `code ${code}`}`));
    child.once('error', (error) => resolve(`${name} could not start: ${error.message}`));
  });
  const handle: BenchChild = {
    name,
    pid: child.pid ?? -1,
    logFile,
    child,
    exited,
    rssKiB: () => readRssKiB(child.pid),
    call<T>(message: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
      const seq = ++sequence;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${name} did not answer ${String(message.type)} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (reply: { seq?: number; error?: string }) => {
          if (reply?.seq !== seq) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          if (reply.error) reject(new Error(`${name}: ${reply.error}`));
          else resolve(reply as T);
        };
        child.on('message', onMessage);
        child.send({ ...message, seq });
      });
    },
    nextMessage<T>(type: string, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${name} sent no "${type}" within ${timeoutMs} ms; see ${logFile}`));
        }, timeoutMs);
        const onMessage = (message: { type?: string }) => {
          if (message?.type !== type) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(message as T);
        };
        child.on('message', onMessage);
        void exited.then((reason) => {
          clearTimeout(timer);
          reject(new Error(`${reason} before sending "${type}"; last log lines:\n${logTail(logFile)}`));
        });
      });
    },
    async stop() {
      children.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  children.add(handle);
  return handle;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
}

export function readRssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat. */
export function readCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return undefined;
  }
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls an HTTP URL until it answers 200, or fails when the child exits first. */
export async function waitForHttp(url: string, child: BenchChild, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitReason: string | undefined;
  void child.exited.then((reason) => (exitReason = reason));
  for (;;) {
    if (exitReason) throw new Error(`${exitReason} before ${url} answered; last log lines:\n${logTail(child.logFile)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s; see ${child.logFile}`);
    await sleep(200);
  }
}
