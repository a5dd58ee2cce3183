import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { logTail } from './processes.js';
import { sleep } from './stats.js';

/** The system Redis of the machine (and REDIS_URL's default): a phase-owned server never takes its port. */
const SYSTEM_REDIS_PORT = 6379;

/** `redis-server --version` → e.g. "7.0.15"; undefined when no redis-server is on PATH. */
export function redisServerVersion(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  if (result.error || result.status !== 0) return undefined;
  return /v=(\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). */
export async function freeLoopbackPort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port: picked } = probe.address() as { port: number };
        probe.close(() => resolve(picked));
      });
    });
    if (port !== SYSTEM_REDIS_PORT) return port;
  }
}

/** A redis-server process this benchmark started, on a loopback port and data directory of its own. */
export interface OwnedRedis {
  url: string;
  port: number;
  /** The redis-server arguments that set its persistence, as given on its command line. */
  persistenceArgs: readonly string[];
  pid(): number | undefined;
  /** Starts it (again: same port, same data directory) and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown save, no AOF rewrite, exactly what a crash leaves behind. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Like the benchmark's Node children: never outlives the run, whatever ends it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Defines (does not start) a redis-server bound to 127.0.0.1 on a free port, with its data in
 * `dataDir` and its log next to the benchmark's process logs.
 */
export async function ownedRedis(options: { name: string; dataDir: string; logDir: string; persistenceArgs: readonly string[] }): Promise<OwnedRedis> {
  const port = await freeLoopbackPort();
  const url = `redis://127.0.0.1:${port}`;
  const logFile = join(options.logDir, `${options.name}.log`);
  mkdirSync(options.dataDir, { recursive: true });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const waitGone = async (signal: NodeJS.Signals, graceMs: number) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!gone) {
      current.kill('SIGKILL');
      await exited;
    }
  };

  return {
    url,
    port,
    persistenceArgs: options.persistenceArgs,
    pid: () => child?.pid,
    async start() {
      const started = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', options.dataDir, '--logfile', logFile, '--daemonize', 'no', ...options.persistenceArgs],
        { stdio: 'ignore' },
      );
      child = started;
      running.add(started);
      let exitReason: string | undefined;
      exited = new Promise<void>((resolve) => {
        started.once('exit', (code, signal) => {
          running.delete(started);
          exitReason = `redis-server on port ${port} exited with ${signal ?? `code ${code}`}`;
          resolve();
        });
        started.once('error', (error) => {
          running.delete(started);
          exitReason = `redis-server could not start: ${error.message}`;
          resolve();
        });
      });
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (exitReason) throw new Error(`${exitReason}; last log lines:\n${logTail(logFile)}`);
        if (await answersPing(port)) return;
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 15 s; see ${logFile}`);
        await sleep(50);
      }
    },
    kill: () => waitGone('SIGKILL', 5_000),
    stop: () => waitGone('SIGTERM', 5_000),
  };
}

async function answersPing(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // A refused connection is the expected answer while the server starts; it is not worth a log line.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
