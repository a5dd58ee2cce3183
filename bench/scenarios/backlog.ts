import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { readRssKiB } from '../support/processes.js';
import { metricSum, readPrometheus, type Product } from '../support/product.js';
import { note, phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, runConcurrently, sleep, waitFor } from '../support/stats.js';
import { BENCH_UID, createDestinations, deleteDestinations } from './product.js';

export interface RssSeries {
  /** Before the backlog was ingested (processes warm from the runs before). */
  before: number;
  /** Once every delivery of the backlog has failed and waits in Temporal's backoff for its next attempt. */
  after: number;
  /** The highest one-second sample in between. */
  peak: number;
}

export interface BacklogResult {
  deliveries: number;
  events: number;
  fanout: number;
  retryPolicy: Record<string, number>;
  ingestSeconds: number;
  /** From the first ingest until every delivery had failed once. */
  failedSeconds: number;
  /** Requests the sink answered 503. */
  failedAttempts: number;
  retryingInDatabase: number;
  /** Activity slots in use in the worker at the "after" sample (SDK metric), and its slot count. */
  activitySlotsUsed: number | undefined;
  /** Workflows in the worker's sticky cache at the "after" sample. */
  stickyCacheSize: number | undefined;
  /** RSS in MiB per process. */
  rss: Record<string, RssSeries>;
  cleanup: string;
  /** BREAKER_FAILURE_THRESHOLD of the worker restarted for this phase (absent in results from before the breaker). */
  breakerFailureThreshold?: number;
}

/**
 * The backlog's worker runs with the highest breaker threshold the configuration takes. With the
 * default (10 consecutive failures) each destination's breaker opens after its first ten 503s and
 * holds every other delivery on a timer: they never fail once, never wait in Temporal's backoff, and
 * the phase would wait for them in vain. What is measured here is what a delivery in backoff costs;
 * what an open breaker's waiters cost is the noisy-neighbour phase's subject.
 */
const BACKLOG_BREAKER_THRESHOLD = 10_000;

/**
 * Retry numbers of the backlog's destinations: the next attempt 10 minutes after a failure. A
 * shorter backoff makes 2 cores spend the phase on retries of the first deliveries instead of
 * creating the rest (10,000 deliveries retried every minute is ~170 attempts/s, more than this
 * machine runs). The point measured is the same: what a delivery waiting in backoff costs.
 */
const BACKLOG_RETRY_POLICY = { initial_interval_ms: 600_000, backoff_coefficient: 2, max_interval_ms: 600_000, max_age_ms: 3_600_000 };

/**
 * Backlog memory: B deliveries (B / F events × F destinations, ingested through the API) failing
 * against a sink that answers 503, so each waits in Temporal's retry backoff for its next attempt.
 * RSS of the API, the worker and the Temporal server before the backlog and once every delivery
 * has failed (and is `retrying` in the database).
 */
export async function backlogRun(options: {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  deliveries: number;
  fanout: number;
  concurrency: number;
  runId: string;
  temporalPid: number | undefined;
  /** The Temporal server outlives the benchmark (TEMPORAL_ADDRESS): terminate the backlog's workflows. */
  externalTemporal: boolean;
}): Promise<BacklogResult> {
  const { product, sink, client, db, fanout, concurrency, runId } = options;
  const events = Math.ceil(options.deliveries / fanout);
  const deliveries = events * fanout;
  // Each destination gets one delivery per event: its consecutive failures must stay below the threshold.
  if (events >= BACKLOG_BREAKER_THRESHOLD) throw new Error(`backlog: ${events} deliveries per destination would open the breaker (BREAKER_FAILURE_THRESHOLD at most ${BACKLOG_BREAKER_THRESHOLD}); use a smaller --backlog or a larger --fanout`);
  phase(`backlog: ${deliveries} deliveries (${events} events × ${fanout}) retrying against 503`);
  // Last phase of the run: the restart changes nothing for the phases before it.
  note(`restarting the worker with BREAKER_FAILURE_THRESHOLD=${BACKLOG_BREAKER_THRESHOLD}, so every backlog delivery fails once and waits in Temporal's backoff`);
  await product.restartWorker({ BREAKER_FAILURE_THRESHOLD: String(BACKLOG_BREAKER_THRESHOLD) });
  await sink.reset();
  await sink.answer(200);
  const destinationIds = await createDestinations(product, sink.url, fanout, `${runId}-backlog`, 'registration', BACKLOG_RETRY_POLICY);
  // Warm-up of the restarted worker, not measured: C events answered 200, so "before" is a worker
  // that has run deliveries (as it had before the restart) rather than one that only started.
  await runConcurrently(concurrency, concurrency, async (i) => {
    const response = await product.request('POST', product.tenant('/events'), { id: `${runId}-backlog-warmup-${i}`, canonical: 'registration', uid: BENCH_UID });
    if (response.status !== 202) throw new Error(`backlog warm-up ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
  });
  await waitFor(
    async () => (await sink.stats()).ids >= concurrency * fanout && (await client.workflow.count(`TaskQueue="${product.taskQueue}" AND ExecutionStatus="Running"`)).count === 0,
    120_000,
    'the backlog warm-up deliveries',
    100,
  );
  await sink.reset();
  await sink.answer(503);
  const processes: Record<string, () => number | undefined> = { api: () => product.api.rssKiB(), worker: () => product.worker.rssKiB() };
  if (options.temporalPid !== undefined) processes['temporal server'] = () => readRssKiB(options.temporalPid);
  const sample = () => Object.fromEntries(Object.entries(processes).map(([name, read]) => [name, (read() ?? 0) / 1024]));
  const peaks: Record<string, number> = {};
  const sampler = setInterval(() => {
    for (const [name, mib] of Object.entries(sample())) peaks[name] = Math.max(peaks[name] ?? 0, mib);
  }, 1_000);
  const countStatus = async (status: string) =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = ANY($1) AND status = $2`, [destinationIds, status])).rows[0]!.n);

  try {
    await sleep(2_000);
    const before = sample();
    let ingested = 0;
    const stop = ticker(async () => {
      const stats = await sink.stats();
      return `${ingested}/${events} events ingested, ${stats.ids}/${deliveries} deliveries failed once (503), ${stats.requests} attempts`;
    }, 1_000);
    const t0 = nowMs();
    await runConcurrently(events, concurrency, async (i) => {
      const response = await product.request('POST', product.tenant('/events'), { id: `${runId}-backlog-${i}`, canonical: 'registration', uid: BENCH_UID });
      if (response.status !== 202) throw new Error(`backlog ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
      ingested += 1;
    });
    const ingestSeconds = (nowMs() - t0) / 1000;
    await waitFor(async () => (await sink.stats()).ids >= deliveries, 1_800_000, 'every backlog delivery to fail once', 500);
    const failedSeconds = (nowMs() - t0) / 1000;
    // Each attempt's bookkeeping lands right after its request.
    await waitFor(async () => (await countStatus('retrying')) >= deliveries, 120_000, 'every backlog delivery to be recorded as retrying', 250);
    stop();
    await sleep(2_000);
    const after = sample();
    const metrics = await readPrometheus(product.workerMetricsUrl);
    let activitySlotsUsed: number | undefined;
    for (const [key, value] of metrics) {
      if (/^temporal_worker_task_slots_used\{.*worker_type="ActivityWorker"/.test(key)) activitySlotsUsed = (activitySlotsUsed ?? 0) + value;
    }
    const stickyCacheSize = metricSum(metrics, 'temporal_sticky_cache_size');
    const retryingInDatabase = await countStatus('retrying');
    const failedAttempts = (await sink.stats()).requests;
    clearInterval(sampler);

    const rss: Record<string, RssSeries> = {};
    for (const name of Object.keys(processes)) rss[name] = { before: before[name]!, after: after[name]!, peak: Math.max(peaks[name] ?? 0, after[name]!) };
    const cleanup = options.externalTemporal ? await terminateBacklog(client, product.taskQueue) : 'none needed: the in-memory Temporal dev server is discarded at the end of the run';
    return {
      deliveries,
      events,
      fanout,
      retryPolicy: BACKLOG_RETRY_POLICY,
      ingestSeconds,
      failedSeconds,
      failedAttempts,
      retryingInDatabase,
      activitySlotsUsed,
      stickyCacheSize,
      rss,
      cleanup,
      breakerFailureThreshold: BACKLOG_BREAKER_THRESHOLD,
    };
  } finally {
    clearInterval(sampler);
    await sink.answer(200);
    await deleteDestinations(product, destinationIds);
  }
}

/** On a Temporal server that outlives the run, one batch operation terminates the backlog's workflows. */
async function terminateBacklog(client: Client, taskQueue: string): Promise<string> {
  await client.workflowService.startBatchOperation({
    namespace: client.options.namespace,
    jobId: randomUUID(),
    visibilityQuery: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`,
    reason: 'benchmark backlog cleanup',
    terminationOperation: {},
  });
  await waitFor(async () => (await client.workflow.count(`TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`)).count === 0, 300_000, 'the backlog workflows to be terminated', 1_000);
  return 'the backlog workflows were terminated with one batch operation (their rows stay `retrying` in the database)';
}
