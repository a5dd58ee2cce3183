import type { Client } from '@temporalio/client';
import { join } from 'node:path';
import type pg from 'pg';
import { cpuSnapshot, cpuUsed, type ProcessGroups } from '../support/cpu.js';
import { historyCost, type HistoryCost } from '../support/history.js';
import { diffCounts, metricSum, readCounters, readPrometheus, type Product } from '../support/product.js';
import { phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, perSecond, runConcurrently, waitFor } from '../support/stats.js';

export const BENCH_UID = 'bench-uid';

export interface ProductResult {
  label: string;
  events: number;
  fanout: number;
  deliveries: number;
  concurrency: number;
  ingestPerSecond: number;
  ingestP50Ms: number;
  ingestP99Ms: number;
  /** Commit of the delivery (created_at) → Temporal accepted its workflow start (dispatched_at), from PostgreSQL's clock. */
  dispatchP50Ms: number;
  dispatchP99Ms: number;
  deliveriesPerSecond: number;
  arrivalP50Ms: number;
  arrivalP99Ms: number;
  /** Requests for an event_id already received: duplicate deliveries (should be 0). */
  duplicates: number;
  history: HistoryCost;
  /** Statements per delivery, by process and statement shape. */
  sql: { api: Record<string, number>; worker: Record<string, number>; apiPerDelivery: number; workerPerDelivery: number };
  http: { sinkRequestsPerDelivery: number; ingestRequestsPerDelivery: number; sinkConnections: number };
  grpc: { apiPerDelivery: Record<string, number>; workerPerDelivery: Record<string, number> };
  /** Workflow tasks that found their workflow in the worker's sticky cache, and those that had to replay. */
  stickyCache: { hits: number | undefined; misses: number | undefined };
  cpuMsPerDelivery: Record<string, number>;
}

export interface ProductRunOptions {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  events: number;
  concurrency: number;
  fanout: number;
  runId: string;
  label: string;
  /** Histories read back (all when larger than the number of deliveries). */
  historySample: number;
  cpuGroups: ProcessGroups;
  /** When set, CPU profiles of the API and worker over the measured part go to this folder. */
  profileDir?: string;
}

/**
 * The product: F destinations pointing at the sink, N events ingested through the real HTTP API
 * at concurrency C, each delivery timed from its ingest request to its arrival at the sink.
 */
export async function productRun(options: ProductRunOptions): Promise<ProductResult> {
  const { product, sink, client, db, events, concurrency, fanout, runId, label } = options;
  const deliveries = events * fanout;
  phase(`product ${label}: ${events} events × ${fanout} destination(s) through the API at concurrency ${concurrency}`);
  const destinationIds = await createDestinations(product, sink.url, fanout, `${runId}-${label}`, 'deposit');
  try {
    const ingest = (id: string) =>
      product.request<{ deliveries: Array<{ event_id: string }> }>('POST', product.tenant('/events'), {
        id,
        canonical: 'deposit',
        uid: BENCH_UID,
        occurred_at_ms: 1_765_432_100_000,
        data: { value: '25.00', currency: 'USD' },
      });
    const sentCount = async () =>
      Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = ANY($1) AND status = 'sent'`, [destinationIds])).rows[0]!.n);
    const running = async () => (await client.workflow.count(`TaskQueue="${product.taskQueue}" AND ExecutionStatus="Running"`)).count;
    const settled = async (expectedSent: number, what: string) => {
      await waitFor(async () => (await sentCount()) >= expectedSent && (await running()) === 0, 300_000, what, 100);
    };

    // Warm-up, not measured: connections, JIT, the worker's sandbox.
    await runConcurrently(concurrency, concurrency, async (i) => {
      const response = await ingest(`${runId}-${label}-warmup-${i}`);
      if (response.status !== 202) throw new Error(`warm-up ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
    });
    await settled(concurrency * fanout, `${label} warm-up deliveries`);
    await sink.reset();

    const groups = options.cpuGroups;
    const cpuBefore = cpuSnapshot(groups);
    const [apiBefore, workerBefore, promBefore] = await Promise.all([readCounters(product.api), readCounters(product.worker), readPrometheus(product.workerMetricsUrl)]);

    if (options.profileDir) await Promise.all([product.api.call({ type: 'bench:profile-start' }), product.worker.call({ type: 'bench:profile-start' })]);
    const sentAt = new Map<string, number>();
    const ingestLatencies: number[] = [];
    let accepted = 0;
    let lastAccepted = 0;
    const stop = ticker(async () => {
      const stats = await sink.stats();
      return `${accepted}/${events} ingested, ${stats.ids}/${deliveries} delivered`;
    });
    const t0 = nowMs();
    await runConcurrently(events, concurrency, async (i) => {
      const start = nowMs();
      const response = await ingest(`${runId}-${label}-${i}`);
      const end = nowMs();
      if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
      ingestLatencies.push(end - start);
      for (const delivery of response.body.deliveries) sentAt.set(delivery.event_id, start);
      accepted += 1;
      lastAccepted = Math.max(lastAccepted, end);
    });
    if (sentAt.size !== deliveries) throw new Error(`expected ${deliveries} deliveries from ingest, got ${sentAt.size}`);
    await waitFor(async () => (await sink.stats()).ids >= deliveries, 600_000, `${deliveries} deliveries at the sink`, 50);
    await settled(deliveries + concurrency * fanout, `${label} deliveries to be recorded as sent`);
    stop();

    const cpu = cpuUsed(cpuBefore, cpuSnapshot(groups));
    if (options.profileDir) {
      for (const child of [product.api, product.worker]) {
        await child.call({ type: 'bench:profile-stop', file: join(options.profileDir, `${label}-${child.name}.cpuprofile`) }, 60_000);
      }
    }
    const [apiAfter, workerAfter, promAfter, stats, arrivals] = await Promise.all([
      readCounters(product.api),
      readCounters(product.worker),
      readPrometheus(product.workerMetricsUrl),
      sink.stats(),
      sink.arrivals(),
    ]);
    const latencies: number[] = [];
    let lastArrival = 0;
    for (const [eventId, start] of sentAt) {
      const arrival = arrivals.get(eventId);
      if (arrival === undefined) throw new Error(`delivery ${eventId} never reached the sink`);
      latencies.push(arrival - start);
      lastArrival = Math.max(lastArrival, arrival);
    }
    const dispatchRows = await db.query<{ p50: number; p99: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
         FROM (SELECT extract(epoch FROM dispatched_at - created_at) * 1000 AS ms FROM deliveries WHERE event_id = ANY($1)) t`,
      [[...sentAt.keys()]],
    );
    const history = await historyCost(client, [...sentAt.keys()].slice(0, options.historySample).map((id) => `delivery-${id}`));
    const perDelivery = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, n / deliveries]));
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    const apiSql = diffCounts(apiAfter.sql, apiBefore.sql);
    const workerSql = diffCounts(workerAfter.sql, workerBefore.sql);
    return {
      label,
      events,
      fanout,
      deliveries,
      concurrency,
      ingestPerSecond: perSecond(events, lastAccepted - t0),
      ingestP50Ms: percentile(ingestLatencies, 50),
      ingestP99Ms: percentile(ingestLatencies, 99),
      dispatchP50Ms: Number(dispatchRows.rows[0]!.p50),
      dispatchP99Ms: Number(dispatchRows.rows[0]!.p99),
      deliveriesPerSecond: perSecond(deliveries, lastArrival - t0),
      arrivalP50Ms: percentile(latencies, 50),
      arrivalP99Ms: percentile(latencies, 99),
      duplicates: stats.repeated,
      history,
      sql: { api: perDelivery(apiSql), worker: perDelivery(workerSql), apiPerDelivery: total(apiSql) / deliveries, workerPerDelivery: total(workerSql) / deliveries },
      http: { sinkRequestsPerDelivery: stats.requests / deliveries, ingestRequestsPerDelivery: events / deliveries, sinkConnections: stats.connections },
      grpc: {
        apiPerDelivery: perDelivery(diffCounts(apiAfter.grpc, apiBefore.grpc)),
        workerPerDelivery: perDelivery(workerGrpc(promAfter, promBefore)),
      },
      stickyCache: {
        hits: delta(metricSum(promAfter, 'temporal_sticky_cache_hit'), metricSum(promBefore, 'temporal_sticky_cache_hit')),
        misses: delta(metricSum(promAfter, 'temporal_sticky_cache_miss'), metricSum(promBefore, 'temporal_sticky_cache_miss')),
      },
      cpuMsPerDelivery: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / deliveries])),
    };
  } finally {
    await deleteDestinations(product, destinationIds);
  }
}

function delta(after: number | undefined, before: number | undefined): number | undefined {
  return after === undefined ? undefined : after - (before ?? 0);
}

/** The worker's calls to Temporal, from the SDK's request counters on its /metrics. */
function workerGrpc(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const match = /^temporal_(long_)?request(?:_total)?\{.*operation="([^"]+)"/.exec(key);
    if (!match) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) out[match[2]!] = (out[match[2]!] ?? 0) + delta;
  }
  return out;
}

export async function createDestinations(
  product: Product,
  sinkUrl: string,
  count: number,
  prefix: string,
  canonical: string,
  retryPolicy?: Record<string, number>,
): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < count; k++) {
    const response = await product.request<{ id: string }>('POST', product.tenant('/destinations'), {
      name: `bench-${prefix}-${k}`,
      url: `${sinkUrl}/d${k}`,
      headers: { 'X-Shared-Secret': 'bench' },
      event_map: { [canonical]: 'Purchase' },
      ...(retryPolicy ? { retry_policy: retryPolicy } : {}),
    });
    if (response.status !== 201) throw new Error(`creating a destination answered ${response.status}: ${JSON.stringify(response.body)}`);
    ids.push(response.body.id);
  }
  return ids;
}

export async function deleteDestinations(product: Product, ids: string[]): Promise<void> {
  for (const id of ids) await product.request('DELETE', product.tenant(`/destinations/${id}`));
}
