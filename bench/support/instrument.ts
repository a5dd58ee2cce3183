/**
 * Preloaded into the product's API and worker processes by the benchmark
 * (`node --import ./dist/bench/support/instrument.js dist/src/main.js`): counts every SQL
 * statement sent through `pg` and every unary gRPC call made through `@grpc/grpc-js` (the
 * Temporal client of the API), and reports the counts over IPC. Product code is unchanged.
 */
import grpc from '@grpc/grpc-js';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import pg from 'pg';

const sqlCounts = new Map<string, number>();
const grpcCounts = new Map<string, number>();

const keys = new Map<string, string>();
/** One key per statement shape: whitespace collapsed, cut to its first 90 characters (memoised: counting must stay cheap). */
function statementKey(text: string): string {
  let key = keys.get(text);
  if (key === undefined) {
    key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    if (keys.size < 10_000) keys.set(text, key);
  }
  return key;
}

const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function instrumentedQuery(this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string } | undefined;
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    const key = statementKey(text);
    sqlCounts.set(key, (sqlCounts.get(key) ?? 0) + 1);
  }
  return originalQuery.apply(this, args);
} as typeof pg.Client.prototype.query;

const originalUnary = grpc.Client.prototype.makeUnaryRequest as (...args: unknown[]) => unknown;
grpc.Client.prototype.makeUnaryRequest = function instrumentedUnary(this: grpc.Client, ...args: unknown[]) {
  const method = String(args[0]).split('/').pop() ?? String(args[0]);
  grpcCounts.set(method, (grpcCounts.get(method) ?? 0) + 1);
  return originalUnary.apply(this, args);
} as typeof grpc.Client.prototype.makeUnaryRequest;

process.on('message', (message: { type?: string; seq?: number }) => {
  if (message?.type !== 'bench:counters') return;
  process.send?.({ seq: message.seq, sql: Object.fromEntries(sqlCounts), grpc: Object.fromEntries(grpcCounts) });
});

// CPU profiles on request (`npm run bench -- --profile`): the benchmark starts the profiler before
// a measured phase and stops it after, and the profile is written where it asks.

let session: Session | undefined;
process.on('message', (message: { type?: string; seq?: number; file?: string }) => {
  if (message?.type === 'bench:profile-start') {
    void (async () => {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
      process.send?.({ seq: message.seq });
    })();
  } else if (message?.type === 'bench:profile-stop' && session) {
    void (async () => {
      const { profile } = await session!.post('Profiler.stop');
      await writeFile(message.file!, JSON.stringify(profile));
      session!.disconnect();
      session = undefined;
      process.send?.({ seq: message.seq });
    })();
  }
});
