import { Pool } from 'undici';
import { phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, perSecond, runConcurrently } from '../support/stats.js';

export interface CeilingAResult {
  requests: number;
  concurrency: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/**
 * Ceiling A, raw HTTP: undici POSTs of the webhook body the product sends, to the same sink, at
 * the same concurrency, each with its own webhook-id. No product code can go faster than this.
 */
export async function ceilingA(sink: Sink, body: string, requests: number, concurrency: number): Promise<CeilingAResult> {
  phase(`ceiling A: ${requests} raw undici POSTs at concurrency ${concurrency}`);
  await sink.reset();
  const pool = new Pool(sink.url, { connections: concurrency, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  // Warm-up: open the connections first, so the figure is requests, not handshakes.
  await runConcurrently(concurrency * 4, concurrency, async (i) => post(pool, body, `warmup-${i}`));
  await sink.reset();
  let done = 0;
  const stop = ticker(() => `${done}/${requests} requests`);
  const startedAt = nowMs();
  await runConcurrently(requests, concurrency, async (i) => {
    const sentAt = nowMs();
    await post(pool, body, `raw-${i}`);
    latencies.push(nowMs() - sentAt);
    done += 1;
  });
  const elapsed = nowMs() - startedAt;
  stop();
  await pool.close();
  const stats = await sink.stats();
  if (stats.ids !== requests) throw new Error(`ceiling A: the sink saw ${stats.ids} of ${requests} requests`);
  return {
    requests,
    concurrency,
    requestsPerSecond: perSecond(requests, elapsed),
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
  };
}

async function post(pool: Pool, body: string, id: string): Promise<void> {
  const response = await pool.request({
    method: 'POST',
    path: '/raw',
    headers: { 'content-type': 'application/json', 'webhook-id': id },
    body,
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`sink answered ${response.statusCode}`);
}
