import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { cpuSnapshot, cpuUsed, type ProcessGroups } from '../support/cpu.js';
import type { BenchChild } from '../support/processes.js';
import { diffCounts, metricSum, readCounters, readPrometheus, type Product } from '../support/product.js';
import { note, phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, perSecond, runConcurrently, waitFor } from '../support/stats.js';
import { BENCH_UID, createDestinations, deleteDestinations } from './product.js';

/** What one worker process did during a measured run. */
export interface ScaleOutWorker {
  name: string;
  /** StartWorkflowExecution calls of its outbox dispatcher (the worker's Temporal client, counted by the preload). */
  workflowStarts: number;
  /** Outbox claim statements it ran (empty ones included: it also claims once a second while idle). */
  outboxClaims: number;
  /** Claims that started something: one `dispatched_at` UPDATE per such batch. */
  outboxBatches: number;
  /** HTTP attempts it made (the product's xtracker_webhook_attempts_total on its /metrics). */
  attempts: number | undefined;
  /** Activities (regular and local) and workflow tasks it ran: the Temporal SDK's histogram counts on its /metrics. */
  activities: number | undefined;
  localActivities: number | undefined;
  workflowTasks: number | undefined;
}

/**
 * PostgreSQL backends of the benchmark's database waiting on a lock, sampled every
 * LOCK_SAMPLE_MS over a measured run: how many samples saw any, the most at once, and in how
 * many samples each wait event (relation, tuple, transactionid, …) and each waiting statement
 * (its first STATEMENT_KEY_LENGTH characters) appeared.
 */
export interface LockWaits {
  samples: number;
  samplesWithWaiters: number;
  maxWaiting: number;
  byWaitEvent: Record<string, number>;
  byStatement: Record<string, number>;
}

/** One measured run of the scale-out phase: N events at fan-out 1 through these APIs, run by these workers. */
export interface ScaleOutRun {
  apis: number;
  workers: number;
  events: number;
  deliveries: number;
  ingestPerSecond: number;
  ingestP50Ms: number;
  ingestP99Ms: number;
  deliveriesPerSecond: number;
  arrivalP50Ms: number;
  arrivalP99Ms: number;
  duplicates: number;
  /** Ingests answered 202 by each API process, in process order. */
  ingestsPerApi: number[];
  perWorker: ScaleOutWorker[];
  lockWaits: LockWaits;
  cpuMsPerDelivery: Record<string, number>;
}

export interface ScaleOutResult {
  concurrency: number;
  /** The same load on the first API and worker alone, right before the second pair starts: the control. */
  single: ScaleOutRun;
  /** The same load split across both APIs, run by both workers. */
  scaled: ScaleOutRun;
}

const LOCK_SAMPLE_MS = 100;
const STATEMENT_KEY_LENGTH = 70;

/** Statement shapes of the outbox dispatcher (DeliveryRepository.claimOutbox, markDispatched), as the preload keys them. */
const CLAIM_STATEMENT = 'WITH RECURSIVE waiting(destination_id) AS (';
const MARK_DISPATCHED_STATEMENT = 'UPDATE deliveries SET dispatched_at = COALESCE(dispatched_at, now())';

interface ApiProcess {
  request: Product['request'];
}
interface WorkerProcess {
  name: string;
  child: BenchChild;
  metricsUrl: string;
}

/**
 * Scale-out: N events at fan-out 1, C in flight, first through the product's one API and one
 * worker (the control), then with a second API and a second worker started beside them (same
 * database, Temporal dev server and task queue) and the load generator sending alternate events to
 * each API. For each: deliveries/s end to end, as for the product's fan-out-1 run, what each worker
 * did (how the outbox dispatchers, which claim with FOR UPDATE SKIP LOCKED, shared the starts, and
 * how Temporal's matching shared the tasks), and the lock waits PostgreSQL showed. The second pair
 * is stopped at the end: the phases after this one run on one API and one worker, as before it.
 */
export async function scaleOutRun(options: {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  events: number;
  concurrency: number;
  runId: string;
  /** The processes other than the product's (load generator, sink, Temporal server, PostgreSQL). */
  cpuGroups: ProcessGroups;
}): Promise<ScaleOutResult> {
  const { product, sink, client, db, events, concurrency, runId } = options;
  const [destinationId] = await createDestinations(product, sink.url, 1, `${runId}-scale-out`, 'deposit');
  const firstWorker: WorkerProcess = { name: 'worker 1', child: product.worker, metricsUrl: product.workerMetricsUrl };
  const firstGroups: ProcessGroups = { ...options.cpuGroups, 'api 1': () => [product.api.pid], 'worker 1': () => [product.worker.pid] };
  const measure = (label: string, apis: ApiProcess[], workers: WorkerProcess[], groups: ProcessGroups) =>
    measureRun({ label, apis, workers, groups, product, sink, client, db, destinationId: destinationId!, events, concurrency, runId });
  try {
    phase(`scale-out, 1 API + 1 worker (control): ${events} events × 1 destination at concurrency ${concurrency}`);
    const single = await measure('single', [product], [firstWorker], firstGroups);

    phase('scale-out: starting a second API and a second worker (same database, Temporal and task queue)');
    const second = await product.addProcesses('2');
    note(`second API pid ${second.api.pid} at ${second.apiUrl}, second worker pid ${second.worker.pid}`);
    try {
      phase(`scale-out, 2 APIs + 2 workers: ${events} events × 1 destination, alternate events to each API, at concurrency ${concurrency}`);
      const scaled = await measure(
        'scaled',
        [product, second],
        [firstWorker, { name: 'worker 2', child: second.worker, metricsUrl: second.workerMetricsUrl }],
        { ...firstGroups, 'api 2': () => [second.api.pid], 'worker 2': () => [second.worker.pid] },
      );
      return { concurrency, single, scaled };
    } finally {
      await second.stop();
    }
  } finally {
    await deleteDestinations(product, [destinationId!]);
  }
}

async function measureRun(options: {
  label: string;
  apis: ApiProcess[];
  workers: WorkerProcess[];
  groups: ProcessGroups;
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  destinationId: string;
  events: number;
  concurrency: number;
  runId: string;
}): Promise<ScaleOutRun> {
  const { label, apis, workers, groups, product, sink, client, db, destinationId, events, concurrency, runId } = options;
  // Event i goes to API i mod the number of APIs: the load generator's lanes split evenly between them.
  const ingest = (index: number, id: string) =>
    apis[index % apis.length]!.request<{ deliveries: Array<{ event_id: string }> }>('POST', product.tenant('/events'), {
      id,
      canonical: 'deposit',
      uid: BENCH_UID,
      occurred_at_ms: 1_765_432_100_000,
      data: { value: '25.00', currency: 'USD' },
    });
  const sentCount = async () =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = $1 AND status = 'sent'`, [destinationId])).rows[0]!.n);
  const running = async () => (await client.workflow.count(`TaskQueue="${product.taskQueue}" AND ExecutionStatus="Running"`)).count;
  // The destination's deliveries of an earlier run (the control's) count as sent too.
  let expectedSent = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = $1`, [destinationId])).rows[0]!.n);
  const settled = (what: string) => waitFor(async () => (await sentCount()) >= expectedSent && (await running()) === 0, 300_000, what, 100);

  // Warm-up, not measured: every API's connections and every worker's sandbox.
  await runConcurrently(concurrency, concurrency, async (i) => {
    const response = await ingest(i, `${runId}-scale-out-${label}-warmup-${i}`);
    if (response.status !== 202) throw new Error(`scale-out warm-up ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
  });
  expectedSent += concurrency;
  await settled(`the scale-out ${label} warm-up deliveries`);
  await sink.reset();

  const cpuBefore = cpuSnapshot(groups);
  const before = await Promise.all(workers.map(async (w) => ({ counters: await readCounters(w.child), metrics: await readPrometheus(w.metricsUrl) })));
  const lockWaits: LockWaits = { samples: 0, samplesWithWaiters: 0, maxWaiting: 0, byWaitEvent: {}, byStatement: {} };
  const lockSampler = setInterval(() => {
    void db
      .query<{ wait_event: string; statement: string; n: string }>(
        `SELECT wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), ${STATEMENT_KEY_LENGTH}) AS statement, count(*) AS n
           FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' GROUP BY 1, 2`,
      )
      .then(({ rows }) => {
        lockWaits.samples += 1;
        const waiting = rows.reduce((total, row) => total + Number(row.n), 0);
        if (waiting > 0) lockWaits.samplesWithWaiters += 1;
        lockWaits.maxWaiting = Math.max(lockWaits.maxWaiting, waiting);
        for (const event of new Set(rows.map((row) => row.wait_event))) lockWaits.byWaitEvent[event] = (lockWaits.byWaitEvent[event] ?? 0) + 1;
        for (const statement of new Set(rows.map((row) => row.statement))) lockWaits.byStatement[statement] = (lockWaits.byStatement[statement] ?? 0) + 1;
      })
      .catch(() => undefined);
  }, LOCK_SAMPLE_MS);

  const sentAt = new Map<string, number>();
  const ingestLatencies: number[] = [];
  const ingestsPerApi = apis.map(() => 0);
  let lastAccepted = 0;
  const stop = ticker(async () => `${ingestLatencies.length}/${events} ingested, ${(await sink.stats()).ids}/${events} delivered`);
  const t0 = nowMs();
  try {
    await runConcurrently(events, concurrency, async (i) => {
      const start = nowMs();
      const response = await ingest(i, `${runId}-scale-out-${label}-${i}`);
      const end = nowMs();
      if (response.status !== 202) throw new Error(`scale-out ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
      ingestLatencies.push(end - start);
      ingestsPerApi[i % apis.length]! += 1;
      for (const delivery of response.body.deliveries) sentAt.set(delivery.event_id, start);
      lastAccepted = Math.max(lastAccepted, end);
    });
    expectedSent += sentAt.size;
    await waitFor(async () => (await sink.stats()).ids >= sentAt.size, 600_000, `${sentAt.size} scale-out deliveries at the sink`, 50);
    await settled(`the scale-out ${label} deliveries to be recorded as sent`);
  } finally {
    stop();
    clearInterval(lockSampler);
  }
  const cpu = cpuUsed(cpuBefore, cpuSnapshot(groups));
  const after = await Promise.all(workers.map(async (w) => ({ counters: await readCounters(w.child), metrics: await readPrometheus(w.metricsUrl) })));
  const [stats, arrivals] = await Promise.all([sink.stats(), sink.arrivals()]);

  const latencies: number[] = [];
  let lastArrival = 0;
  for (const [eventId, start] of sentAt) {
    const arrival = arrivals.get(eventId);
    if (arrival === undefined) throw new Error(`scale-out delivery ${eventId} never reached the sink`);
    latencies.push(arrival - start);
    lastArrival = Math.max(lastArrival, arrival);
  }
  const deliveries = sentAt.size;
  const perWorker = workers.map((w, k): ScaleOutWorker => {
    const sql = diffCounts(after[k]!.counters.sql, before[k]!.counters.sql);
    const statements = (prefix: string) => Object.entries(sql).reduce((total, [key, n]) => (key.startsWith(prefix) ? total + n : total), 0);
    const metric = (name: string) => {
      const value = metricSum(after[k]!.metrics, name);
      return value === undefined ? undefined : value - (metricSum(before[k]!.metrics, name) ?? 0);
    };
    return {
      name: w.name,
      workflowStarts: diffCounts(after[k]!.counters.grpc, before[k]!.counters.grpc).StartWorkflowExecution ?? 0,
      outboxClaims: statements(CLAIM_STATEMENT),
      outboxBatches: statements(MARK_DISPATCHED_STATEMENT),
      attempts: metric('xtracker_webhook_attempts_total'),
      activities: metric('temporal_activity_execution_latency_count'),
      localActivities: metric('temporal_local_activity_execution_latency_count'),
      workflowTasks: metric('temporal_workflow_task_execution_latency_count'),
    };
  });
  return {
    apis: apis.length,
    workers: workers.length,
    events,
    deliveries,
    ingestPerSecond: perSecond(events, lastAccepted - t0),
    ingestP50Ms: percentile(ingestLatencies, 50),
    ingestP99Ms: percentile(ingestLatencies, 99),
    deliveriesPerSecond: perSecond(deliveries, lastArrival - t0),
    arrivalP50Ms: percentile(latencies, 50),
    arrivalP99Ms: percentile(latencies, 99),
    duplicates: stats.repeated,
    ingestsPerApi,
    perWorker,
    lockWaits,
    cpuMsPerDelivery: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / deliveries])),
  };
}
