import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { startHangingReceiver, type HangingReceiver, type HangingStats } from '../support/hanging-receiver.js';
import { histogramMean, metricSum, readPrometheus, type Product } from '../support/product.js';
import { note, phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, runConcurrently, sleepUntil, waitFor } from '../support/stats.js';
import { BENCH_UID } from './product.js';

/** Deliveries queued to the hanging receiver: far more than its max_in_flight, as a real outage piles them up. */
export const HANGING_DELIVERIES = 1000;
/**
 * The hanging destination's `timeout_ms`: each stuck attempt holds a worker slot this long. 10 s
 * instead of the default 15 s, so the breaker opens (after 10 timeouts) within the measured load.
 */
export const HANGING_TIMEOUT_MS = 10_000;
/**
 * The healthy destination's load: a fixed rate, open loop (each ingest goes at its scheduled time
 * whether or not the ones before were answered), so a slow product shows as latency instead of
 * quietly sending less. 20/s for 20 s spans the first timeouts and the breaker opening.
 */
export const HEALTHY_RATE_PER_SECOND = 20;
export const HEALTHY_SECONDS = 20;
/** After the hanging destination's breaker opened, this long before the settled run: its waiters' first holds are over. */
const SETTLE_MS = 15_000;
/** How long the cancellations may take before what still runs is terminated: the next phases need a quiet worker. */
const CLEANUP_TIMEOUT_MS = 180_000;

export interface HealthyLoad {
  events: number;
  /** The offered rate (events/s) and how late the generator was, worst case, against its schedule. */
  offeredPerSecond: number;
  generatorLateMaxMs: number;
  ingestP50Ms: number;
  ingestP99Ms: number;
  /** Ingest request sent → the delivery's first arrival at the sink. */
  arrivalP50Ms: number;
  arrivalP99Ms: number;
  arrivalMaxMs: number;
  /**
   * Where the tail sits: the slowest 1 % of the load (at least 4), each as its ingest's offset from
   * the load's start (s) and its ingest → arrival latency (ms), slowest first.
   */
  slowest: Array<{ atS: number; ms: number; parts?: LatencyParts }>;
  /** Offsets (s, from the load's start) at which attempts hanging at the receiver ended (timed out) during the load. */
  hangingEndedAtS: number[];
  /** The most of the worker's activity slots in use at once (one-second samples of its /metrics). */
  peakActivitySlots: number | undefined;
  /** What the hanging receiver held open at the start of this load (0 in the quiet run). */
  hangingOpenAtStart: number;
  /**
   * The worker over the load and its drain, from its /metrics (every destination together):
   * activities run (each hold is one too), workflow tasks that had to replay their history (sticky
   * cache misses), and the mean time activity and workflow tasks waited in the task queue, which
   * all destinations share.
   */
  worker: {
    activitiesRun: number | undefined;
    stickyCacheMisses: number | undefined;
    activityScheduleToStartMeanMs: number | undefined;
    workflowTaskScheduleToStartMeanMs: number | undefined;
  };
}

/**
 * Where one delivery's ingest → arrival went (ms): the ingest request until the event's transaction
 * began (deliveries.created_at), from there until its workflow started (the outbox), until the
 * worker took its first workflow task (Temporal's task queue), and from then until it reached the sink.
 */
export interface LatencyParts {
  api: number;
  outbox: number;
  taskQueue: number;
  worker: number;
}

export interface NoisyNeighbourResult {
  hangingDeliveries: number;
  hangingTimeoutMs: number;
  /** Effective limits of the hanging destination, as its GET shows them. */
  hangingMaxInFlight: number;
  /** The worker's activity slots (MAX_CONCURRENT_ATTEMPTS), shared by every destination: used + available on its /metrics. */
  workerActivitySlots: number | undefined;
  /** How long ingesting the hanging destination's events took (C in flight). */
  hangingIngestSeconds: number;
  quiet: HealthyLoad;
  /** Right after the hanging backlog was ingested: its 1,000 first workflow tasks and holds compete with the load. */
  noisy: HealthyLoad;
  /** p99 ingest → arrival of the healthy destination, noisy ÷ quiet. */
  p99Ratio: number;
  /** Once the backlog is waiting (its breaker open, SETTLE_MS after): the steady state of a long outage. */
  settled: HealthyLoad;
  settledP99Ratio: number;
  /** From the end of the noisy run until the breaker was seen open, plus SETTLE_MS. */
  settleSeconds: number;
  /** What reached the hanging receiver from the first hanging ingest to the GET below, `hangingSeconds` later. */
  hangingReceiver: HangingStats;
  hangingSeconds: number;
  /** The hanging destination's `health`, read with GET once the noisy load had arrived. */
  hangingHealthAtEnd: { breaker: string; failure_streak: number; open_until: string | null; last_failure_reason: string | null };
  /** The hanging deliveries' statuses in the database at that moment. */
  hangingStatusesAtEnd: Record<string, number>;
  cleanup: string;
}

interface DestinationBody {
  id: string;
  max_in_flight: number;
  health: NoisyNeighbourResult['hangingHealthAtEnd'];
}

/**
 * Noisy neighbour: one account with a healthy destination (the sink) and a hanging one (a receiver
 * that never answers). The healthy destination's load runs twice at the same fixed rate: alone
 * (quiet), then while 1,000 deliveries to the hanging one are queued behind its max_in_flight and
 * its breaker (noisy). The account is deleted at the end, which cancels its running deliveries.
 */
export async function noisyNeighbourRun(options: {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  concurrency: number;
  runId: string;
  click: Record<string, unknown>;
}): Promise<NoisyNeighbourResult> {
  const { product, sink, client, db, concurrency, runId } = options;
  phase(`noisy neighbour: setup and warm-up (account of its own, healthy destination at the sink)`);
  // An account of its own: deleting it is what cancels every running delivery of the hanging destination.
  const accountId = `${product.accountId}-noisy`.slice(0, 64);
  const tenant = (path: string) => `/v1/accounts/${accountId}${path}`;
  const created = await product.request('PUT', `/v1/accounts/${accountId}`, { name: 'benchmark noisy neighbour', enabled: true });
  if (created.status !== 201) throw new Error(`creating the noisy-neighbour account answered ${created.status}: ${JSON.stringify(created.body)}`);
  let receiver: HangingReceiver | undefined;
  let slotsTotal: number | undefined;
  let deleted = false;
  try {
    const click = await product.request('POST', tenant('/clicks'), options.click);
    if (click.status !== 201 && click.status !== 200) throw new Error(`creating the click answered ${click.status}`);
    // Each destination maps its own canonical event, so every event makes exactly one delivery.
    const healthy = await createDestination(product, tenant, { name: 'bench-noisy-healthy', url: `${sink.url}/healthy`, event_map: { deposit: 'Purchase' } });
    let healthySent = 0;
    const ingest = async (id: string, canonical: 'deposit' | 'contact'): Promise<string> => {
      const response = await product.request<{ deliveries: Array<{ event_id: string }> }>('POST', tenant('/events'), {
        id,
        canonical,
        uid: BENCH_UID,
        occurred_at_ms: 1_765_432_100_000,
        data: { value: '25.00', currency: 'USD' },
      });
      if (response.status !== 202 || response.body.deliveries.length !== 1) {
        throw new Error(`noisy-neighbour ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
      }
      return response.body.deliveries[0]!.event_id;
    };
    const healthySettled = async (what: string) => {
      await waitFor(
        async () => {
          const sent = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = $1 AND status = 'sent'`, [healthy.id])).rows[0]!.n);
          return sent >= healthySent && (await client.workflow.count(`DestinationId="${healthy.id}" AND ExecutionStatus="Running"`)).count === 0;
        },
        120_000,
        what,
        100,
      );
    };

    // Warm-up, not measured: the account's rows and caches, the worker's sandbox for this destination.
    await runConcurrently(concurrency, concurrency, async (i) => void (await ingest(`${runId}-noisy-warmup-${i}`, 'deposit')));
    healthySent += concurrency;
    await healthySettled('noisy-neighbour warm-up deliveries');

    const healthyLoad = async (label: 'quiet' | 'noisy' | 'settled'): Promise<HealthyLoad> => {
      const events = HEALTHY_RATE_PER_SECOND * HEALTHY_SECONDS;
      await sink.reset();
      const hangingOpenAtStart = receiver?.stats().open ?? 0;
      const sentAt = new Map<string, number>();
      const ingestLatencies: number[] = [];
      let generatorLateMaxMs = 0;
      let peakActivitySlots: number | undefined;
      const sampler = setInterval(() => {
        void activitySlots(product.workerMetricsUrl)
          .then((slots) => {
            if (slots === undefined) return;
            peakActivitySlots = Math.max(peakActivitySlots ?? 0, slots.used);
            slotsTotal = slots.used + slots.available;
          })
          .catch(() => undefined);
      }, 1_000);
      const metricsBefore = await readPrometheus(product.workerMetricsUrl);
      let t0 = nowMs();
      const stop = ticker(async () => {
        const stats = await sink.stats();
        const hanging = receiver ? `; hanging receiver: ${receiver.stats().open} open, ${receiver.stats().requests} requests` : '';
        return `${label}: ${sentAt.size}/${events} ingested at ${HEALTHY_RATE_PER_SECOND}/s, ${stats.ids}/${events} arrived${hanging}`;
      });
      try {
        t0 = nowMs();
        const inFlight: Promise<void>[] = [];
        for (let i = 0; i < events; i++) {
          const scheduledAt = t0 + (i * 1000) / HEALTHY_RATE_PER_SECOND;
          await sleepUntil(scheduledAt);
          const start = nowMs();
          generatorLateMaxMs = Math.max(generatorLateMaxMs, start - scheduledAt);
          inFlight.push(
            ingest(`${runId}-noisy-${label}-${i}`, 'deposit').then((eventId) => {
              ingestLatencies.push(nowMs() - start);
              sentAt.set(eventId, start);
            }),
          );
        }
        await Promise.all(inFlight);
        healthySent += events;
        await waitFor(async () => (await sink.stats()).ids >= events, 300_000, `${label}: ${events} healthy deliveries at the sink`, 50);
        await healthySettled(`${label}: healthy deliveries to be recorded as sent`);
      } finally {
        clearInterval(sampler);
        stop();
      }
      const [arrivals, metricsAfter] = await Promise.all([sink.arrivals(), readPrometheus(product.workerMetricsUrl)]);
      // The SDK creates a counter at its first increment: absent from a /metrics that has others means none yet.
      const counted = metricsAfter.size > 0;
      const delta = (name: string) => (counted ? (metricSum(metricsAfter, name) ?? 0) - (metricSum(metricsBefore, name) ?? 0) : undefined);
      const latencies: number[] = [];
      const timed: Array<{ atS: number; ms: number; eventId: string; start: number; arrival: number }> = [];
      for (const [eventId, start] of sentAt) {
        const arrival = arrivals.get(eventId);
        if (arrival === undefined) throw new Error(`${label}: healthy delivery ${eventId} never reached the sink`);
        latencies.push(arrival - start);
        timed.push({ atS: (start - t0) / 1000, ms: arrival - start, eventId, start, arrival });
      }
      const loadEndMs = t0 + (events * 1000) / HEALTHY_RATE_PER_SECOND;
      const hangingEndedAtS = (receiver?.stats().closedAtMs ?? []).filter((at) => at >= t0 && at <= loadEndMs).map((at) => (at - t0) / 1000);
      return {
        events,
        offeredPerSecond: HEALTHY_RATE_PER_SECOND,
        generatorLateMaxMs,
        ingestP50Ms: percentile(ingestLatencies, 50),
        ingestP99Ms: percentile(ingestLatencies, 99),
        arrivalP50Ms: percentile(latencies, 50),
        arrivalP99Ms: percentile(latencies, 99),
        arrivalMaxMs: Math.max(...latencies),
        slowest: await Promise.all(
          timed
            .sort((a, b) => b.ms - a.ms)
            .slice(0, Math.max(4, Math.ceil(events / 100)))
            .map(async (x) => ({ atS: x.atS, ms: x.ms, parts: await latencyParts(client, db, x.eventId, x.start, x.arrival).catch(() => undefined) })),
        ),
        hangingEndedAtS,
        peakActivitySlots,
        hangingOpenAtStart,
        worker: {
          // The latency histogram's count: one per activity run, whatever its outcome.
          activitiesRun: delta('temporal_activity_execution_latency_count'),
          stickyCacheMisses: delta('temporal_sticky_cache_miss'),
          activityScheduleToStartMeanMs: histogramMean(metricsAfter, metricsBefore, 'temporal_activity_schedule_to_start_latency'),
          workflowTaskScheduleToStartMeanMs: histogramMean(metricsAfter, metricsBefore, 'temporal_workflow_task_schedule_to_start_latency'),
        },
      };
    };

    phase(`noisy neighbour: quiet run, ${HEALTHY_RATE_PER_SECOND} events/s for ${HEALTHY_SECONDS} s to the healthy destination alone`);
    const quiet = await healthyLoad('quiet');

    phase(`noisy neighbour: ${HANGING_DELIVERIES} deliveries to a receiver that never answers (timeout_ms ${HANGING_TIMEOUT_MS})`);
    const server = await startHangingReceiver();
    receiver = server;
    const hanging = await createDestination(product, tenant, {
      name: 'bench-noisy-hanging',
      url: `${server.url}/hang`,
      event_map: { contact: 'Lead' },
      timeout_ms: HANGING_TIMEOUT_MS,
    });
    const hangingIds: string[] = [];
    const stopIngest = ticker(() => `${hangingIds.length}/${HANGING_DELIVERIES} ingested; hanging receiver: ${server.stats().open} open`);
    const ingestStart = nowMs();
    await runConcurrently(HANGING_DELIVERIES, concurrency, async (i) => void hangingIds.push(await ingest(`${runId}-hang-${i}`, 'contact')));
    const hangingIngestSeconds = (nowMs() - ingestStart) / 1000;
    // "Stuck": the receiver has held as many attempts as the destination lets be in flight (the peak:
    // should ingesting take longer than the timeout, the first ones may have timed out already).
    await waitFor(() => server.stats().peakOpen >= hanging.max_in_flight, 60_000, `${hanging.max_in_flight} attempts hanging at the receiver`, 50);
    stopIngest();
    note(`${HANGING_DELIVERIES} hanging deliveries ingested in ${hangingIngestSeconds.toFixed(1)} s; ${server.stats().open} attempts held open by the receiver`);

    phase(`noisy neighbour: noisy run, the same load while the hanging destination's deliveries wait`);
    const noisy = await healthyLoad('noisy');

    phase(`noisy neighbour: settling (the hanging destination's breaker open, then ${SETTLE_MS / 1000} s)`);
    const settleStart = nowMs();
    await waitFor(
      async () => (await product.request<DestinationBody>('GET', tenant(`/destinations/${hanging.id}`))).body.health.breaker !== 'closed',
      120_000,
      "the hanging destination's breaker to open",
      500,
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const settleSeconds = (nowMs() - settleStart) / 1000;
    phase(`noisy neighbour: settled run, the same load while ${HANGING_DELIVERIES} deliveries wait behind the open breaker`);
    const settled = await healthyLoad('settled');

    const read = await product.request<DestinationBody>('GET', tenant(`/destinations/${hanging.id}`));
    const hangingReceiver = server.stats();
    const hangingSeconds = (nowMs() - ingestStart) / 1000;
    if (read.status !== 200) throw new Error(`reading the hanging destination answered ${read.status}`);
    const { breaker, failure_streak, open_until, last_failure_reason } = read.body.health;
    const statuses = await db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM deliveries WHERE destination_id = $1 GROUP BY status ORDER BY status`, [hanging.id]);

    phase('noisy neighbour: cleanup (DELETE the account: cancels its running deliveries)');
    const cleanupStart = nowMs();
    const removed = await product.request('DELETE', `/v1/accounts/${accountId}`);
    if (removed.status !== 204) throw new Error(`deleting the noisy-neighbour account answered ${removed.status}: ${JSON.stringify(removed.body)}`);
    deleted = true;
    const cleanup = await awaitAccountClosed(client, accountId);
    note(`cleanup: ${cleanup} (${((nowMs() - cleanupStart) / 1000).toFixed(1)} s)`);
    return {
      hangingDeliveries: HANGING_DELIVERIES,
      hangingTimeoutMs: HANGING_TIMEOUT_MS,
      hangingMaxInFlight: hanging.max_in_flight,
      workerActivitySlots: slotsTotal,
      hangingIngestSeconds,
      quiet,
      noisy,
      p99Ratio: noisy.arrivalP99Ms / quiet.arrivalP99Ms,
      settled,
      settledP99Ratio: settled.arrivalP99Ms / quiet.arrivalP99Ms,
      settleSeconds,
      hangingReceiver,
      hangingSeconds,
      hangingHealthAtEnd: { breaker, failure_streak, open_until, last_failure_reason },
      hangingStatusesAtEnd: Object.fromEntries(statuses.rows.map((row) => [row.status, Number(row.n)])),
      cleanup: `${cleanup}, ${((nowMs() - cleanupStart) / 1000).toFixed(1)} s after the DELETE`,
    };
  } finally {
    // On a failure half-way, the account still goes: its deliveries must not disturb the phases after this one.
    if (!deleted) {
      await product.request('DELETE', `/v1/accounts/${accountId}`).catch(() => undefined);
      await awaitAccountClosed(client, accountId).catch(() => undefined);
    }
    await receiver?.close();
  }
}

async function createDestination(product: Product, tenant: (path: string) => string, body: Record<string, unknown>): Promise<DestinationBody> {
  const response = await product.request<DestinationBody>('POST', tenant('/destinations'), { headers: { 'X-Shared-Secret': 'bench' }, ...body });
  if (response.status !== 201) throw new Error(`creating a destination answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Splits one delivery's latency at its row's creation, its workflow's start and its first workflow task (see LatencyParts). */
async function latencyParts(client: Client, db: pg.Pool, eventId: string, sentAtMs: number, arrivedAtMs: number): Promise<LatencyParts | undefined> {
  const row = (await db.query<{ created_ms: string }>(`SELECT extract(epoch FROM created_at) * 1000 AS created_ms FROM deliveries WHERE event_id = $1`, [eventId])).rows[0];
  if (!row) return undefined;
  const createdMs = Number(row.created_ms);
  const history = await client.workflow.getHandle(`delivery-${eventId}`).fetchHistory();
  const at = (index: number) => {
    const time = history.events?.[index]?.eventTime;
    return time?.seconds == null ? undefined : Number(String(time.seconds)) * 1000 + (time.nanos ?? 0) / 1e6;
  };
  // Events 1..3: WorkflowExecutionStarted, WorkflowTaskScheduled, WorkflowTaskStarted.
  const startedMs = at(0);
  const taskStartedMs = at(2);
  if (startedMs === undefined || taskStartedMs === undefined) return undefined;
  return { api: createdMs - sentAtMs, outbox: startedMs - createdMs, taskQueue: taskStartedMs - startedMs, worker: arrivedAtMs - taskStartedMs };
}

/** The worker's activity slots in use and free now, from the SDK's gauges on its /metrics. */
async function activitySlots(metricsUrl: string): Promise<{ used: number; available: number } | undefined> {
  let used: number | undefined;
  let available: number | undefined;
  for (const [key, value] of await readPrometheus(metricsUrl)) {
    if (/^temporal_worker_task_slots_used\{.*worker_type="ActivityWorker"/.test(key)) used = (used ?? 0) + value;
    if (/^temporal_worker_task_slots_available\{.*worker_type="ActivityWorker"/.test(key)) available = (available ?? 0) + value;
  }
  return used === undefined || available === undefined ? undefined : { used, available };
}

/**
 * Waits until no delivery workflow of the account runs. The DELETE only asks for the cancellations;
 * a workflow waits for its attempt in flight to abort (heartbeat) and records `cancelled`. Should
 * one still run after CLEANUP_TIMEOUT_MS, it is terminated, and the result says how many were.
 */
async function awaitAccountClosed(client: Client, accountId: string): Promise<string> {
  const query = `AccountId="${accountId}" AND ExecutionStatus="Running"`;
  const running = async () => (await client.workflow.count(query)).count;
  const stop = ticker(async () => `${await running()} deliveries of the account still running`, 1_000);
  try {
    await waitFor(async () => (await running()) === 0, CLEANUP_TIMEOUT_MS, 'the account deliveries to close', 500);
    return 'every delivery of the account cancelled';
  } catch {
    let terminated = 0;
    for await (const execution of client.workflow.list({ query })) {
      await client.workflow.getHandle(execution.workflowId).terminate('benchmark noisy-neighbour cleanup').catch(() => undefined);
      terminated += 1;
    }
    await waitFor(async () => (await running()) === 0, 60_000, 'the terminated deliveries to close', 500);
    return `${terminated} deliveries still running ${CLEANUP_TIMEOUT_MS / 1000} s after the DELETE were terminated`;
  } finally {
    stop();
  }
}
