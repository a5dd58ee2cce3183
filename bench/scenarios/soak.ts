import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { readRssKiB } from '../support/processes.js';
import type { Product } from '../support/product.js';
import { note, phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, runConcurrently, sleepUntil, waitFor } from '../support/stats.js';
import { BENCH_UID, createDestinations, deleteDestinations } from './product.js';

/** One minute of the soak: the deliveries ingested in it, what became of them, and RSS at its end. */
export interface SoakMinute {
  minute: number;
  /** Ingests answered 202 in this minute (one delivery each). */
  ingested: number;
  /** Ingests not answered 202 (or not answered at all). */
  refused: number;
  /** Of the deliveries ingested in this minute, those that reached the sink by the end of the drain. */
  delivered: number;
  /** Of the deliveries ingested in this minute, those that never reached the sink. */
  lost: number;
  /** Ingest request sent → first arrival at the sink, of the deliveries ingested in this minute. */
  arrivalP50Ms: number;
  arrivalP99Ms: number;
  /** RSS in MiB per process, read at the end of the minute. */
  rssMiB: Record<string, number>;
}

export interface SoakResult {
  minutes: number;
  /** Deliveries/s taken as the product's capacity, and where that figure came from. */
  capacityPerSecond: number;
  capacitySource: string;
  /** Half of the capacity: events (= deliveries, fan-out 1) ingested per second, open loop. */
  ratePerSecond: number;
  ingested: number;
  refused: number;
  /** The first refusal's status or error, when there was one. */
  firstRefusal?: string;
  delivered: number;
  lost: number;
  /** Requests for a webhook-id the sink had already received. */
  duplicates: number;
  /** From the last ingest until every delivery had arrived (or the drain deadline). */
  drainSeconds: number;
  drained: boolean;
  /** The soak destination's deliveries by status in the database, once drained (the warm-up's included). */
  statuses: Record<string, number>;
  warmUpDeliveries: number;
  generatorLateMaxMs: number;
  /** RSS in MiB per process right before the load started. */
  rssBeforeMiB: Record<string, number>;
  perMinute: SoakMinute[];
}

/** The most a soak waits, after its last ingest, for its deliveries to arrive: anything still missing then is lost. */
const DRAIN_DEADLINE_MS = 300_000;

/**
 * Soak: deliveries at half of the product's capacity, open loop (each ingest at its scheduled
 * time whether or not the ones before were answered), to one destination at the benchmark's
 * loopback sink, for M minutes. Every minute: RSS of the worker, the API and the Temporal server;
 * per minute of ingest, afterwards: deliveries ingested, delivered and lost, and ingest → arrival
 * p50/p99. A leak shows as RSS or latency growing from the first minute to the last.
 */
export async function soakRun(options: {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  minutes: number;
  capacityPerSecond: number;
  capacitySource: string;
  concurrency: number;
  runId: string;
  temporalPid: number | undefined;
}): Promise<SoakResult> {
  const { product, sink, client, db, minutes, capacityPerSecond, concurrency, runId } = options;
  const ratePerSecond = capacityPerSecond / 2;
  const events = Math.round(ratePerSecond * minutes * 60);
  phase(`soak: ${events} deliveries at ${ratePerSecond.toFixed(1)}/s (half of ${capacityPerSecond.toFixed(1)}/s, ${options.capacitySource}) for ${minutes} min`);
  const [destinationId] = await createDestinations(product, sink.url, 1, `${runId}-soak`, 'deposit');
  const ingest = (id: string) =>
    product.request<{ deliveries: Array<{ event_id: string }> }>('POST', product.tenant('/events'), {
      id,
      canonical: 'deposit',
      uid: BENCH_UID,
      occurred_at_ms: 1_765_432_100_000,
      data: { value: '25.00', currency: 'USD' },
    });
  const sentCount = async () =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = $1 AND status = 'sent'`, [destinationId])).rows[0]!.n);
  const running = async () => (await client.workflow.count(`TaskQueue="${product.taskQueue}" AND ExecutionStatus="Running"`)).count;
  const processes: Record<string, () => number | undefined> = { worker: () => product.worker.rssKiB(), api: () => product.api.rssKiB() };
  if (options.temporalPid !== undefined) processes['temporal server'] = () => readRssKiB(options.temporalPid);
  const rssMiB = () => Object.fromEntries(Object.entries(processes).map(([name, read]) => [name, (read() ?? 0) / 1024]));

  try {
    // Warm-up, not measured: C events, which also show that one ingest makes exactly one delivery here.
    await runConcurrently(concurrency, concurrency, async (i) => {
      const response = await ingest(`${runId}-soak-warmup-${i}`);
      if (response.status !== 202) throw new Error(`soak warm-up ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
      if (response.body.deliveries.length !== 1) throw new Error(`soak warm-up ingest made ${response.body.deliveries.length} deliveries; expected 1 (another destination maps deposit)`);
    });
    await waitFor(async () => (await sentCount()) >= concurrency && (await running()) === 0, 120_000, 'the soak warm-up deliveries', 100);
    await sink.reset();

    const sentAt = new Map<string, number>();
    const refusedPerMinute = new Array<number>(minutes).fill(0);
    let firstRefusal: string | undefined;
    const rssAtMinuteEnd: Array<Record<string, number>> = [];
    let generatorLateMaxMs = 0;
    let inFlight = 0;
    const rssBeforeMiB = rssMiB();
    const t0 = nowMs();
    const minuteOf = (at: number) => Math.min(minutes - 1, Math.floor((at - t0) / 60_000));
    // The minute boundaries come from timers rather than the ingest loop, so a stalled ingest cannot delay a sample.
    const sampleMinuteEnd = (k: number) => {
      rssAtMinuteEnd[k] = rssMiB();
      note(`soak minute ${k + 1}/${minutes}: RSS ${Object.entries(rssAtMinuteEnd[k]!).map(([name, mib]) => `${name} ${mib.toFixed(0)} MiB`).join(', ')}`);
    };
    const rssTimers = Array.from({ length: minutes }, (_, k) => setTimeout(() => sampleMinuteEnd(k), t0 + (k + 1) * 60_000 - nowMs()));
    const stop = ticker(async () => {
      const stats = await sink.stats();
      return `minute ${Math.min(minutes, minuteOf(nowMs()) + 1)}/${minutes}: ${sentAt.size}/${events} ingested (${inFlight} in flight), ${stats.ids} delivered, worker ${(product.worker.rssKiB() ?? 0) >> 10} MiB`;
    }, 1_000);
    let lastIngestAt = t0;
    try {
      const pending = new Set<Promise<void>>();
      for (let i = 0; i < events; i++) {
        const scheduledAt = t0 + (i * 1000) / ratePerSecond;
        await sleepUntil(scheduledAt);
        const start = nowMs();
        generatorLateMaxMs = Math.max(generatorLateMaxMs, start - scheduledAt);
        inFlight += 1;
        const request: Promise<void> = ingest(`${runId}-soak-${i}`)
          .then(
            (response) => {
              if (response.status === 202) {
                for (const delivery of response.body.deliveries) sentAt.set(delivery.event_id, start);
              } else {
                refusedPerMinute[minuteOf(start)]! += 1;
                firstRefusal ??= `${response.status}: ${JSON.stringify(response.body)}`;
              }
            },
            (error: unknown) => {
              refusedPerMinute[minuteOf(start)]! += 1;
              firstRefusal ??= error instanceof Error ? error.message : String(error);
            },
          )
          .finally(() => {
            inFlight -= 1;
            lastIngestAt = Math.max(lastIngestAt, nowMs());
            pending.delete(request);
          });
        pending.add(request);
      }
      await Promise.all(pending);
      // Until the end of the last minute, for its RSS sample; taken here should its timer and this sleep end together.
      await sleepUntil(t0 + minutes * 60_000);
      if (rssAtMinuteEnd[minutes - 1] === undefined) sampleMinuteEnd(minutes - 1);
    } finally {
      stop();
      for (const timer of rssTimers) clearTimeout(timer);
    }

    // Drain: every accepted delivery at the sink, and its bookkeeping done; what is still missing at the deadline is lost.
    const drainStop = ticker(async () => `drain: ${(await sink.stats()).ids}/${sentAt.size} delivered`, 1_000);
    let drained = true;
    try {
      await waitFor(async () => (await sink.stats()).ids >= sentAt.size, DRAIN_DEADLINE_MS, 'the soak deliveries at the sink', 250);
    } catch {
      drained = false;
    } finally {
      drainStop();
    }
    const drainSeconds = (nowMs() - lastIngestAt) / 1000;
    if (drained) {
      try {
        await waitFor(async () => (await sentCount()) >= sentAt.size + concurrency && (await running()) === 0, 120_000, 'the soak deliveries to be recorded as sent', 250);
      } catch {
        // Not fatal after a long soak: the statuses read below show what was not recorded as sent.
      }
    }

    const [arrivals, stats, statusRows] = await Promise.all([
      sink.arrivals(),
      sink.stats(),
      db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM deliveries WHERE destination_id = $1 GROUP BY status`, [destinationId]),
    ]);
    const latencies = Array.from({ length: minutes }, () => [] as number[]);
    const ingested = new Array<number>(minutes).fill(0);
    const lost = new Array<number>(minutes).fill(0);
    for (const [eventId, start] of sentAt) {
      const minute = minuteOf(start);
      ingested[minute]! += 1;
      const arrival = arrivals.get(eventId);
      if (arrival === undefined) lost[minute]! += 1;
      else latencies[minute]!.push(arrival - start);
    }
    const perMinute: SoakMinute[] = ingested.map((count, k) => ({
      minute: k + 1,
      ingested: count,
      refused: refusedPerMinute[k]!,
      delivered: count - lost[k]!,
      lost: lost[k]!,
      arrivalP50Ms: percentile(latencies[k]!, 50),
      arrivalP99Ms: percentile(latencies[k]!, 99),
      rssMiB: rssAtMinuteEnd[k] ?? {},
    }));
    const lostTotal = lost.reduce((a, b) => a + b, 0);
    return {
      minutes,
      capacityPerSecond,
      capacitySource: options.capacitySource,
      ratePerSecond,
      ingested: sentAt.size,
      refused: refusedPerMinute.reduce((a, b) => a + b, 0),
      ...(firstRefusal !== undefined ? { firstRefusal } : {}),
      delivered: sentAt.size - lostTotal,
      lost: lostTotal,
      // The warm-up's arrivals were reset away: every repeat counted here is a soak delivery's.
      duplicates: stats.repeated,
      drainSeconds,
      drained,
      statuses: Object.fromEntries(statusRows.rows.map((row) => [row.status, Number(row.n)])),
      warmUpDeliveries: concurrency,
      generatorLateMaxMs,
      rssBeforeMiB,
      perMinute,
    };
  } finally {
    await deleteDestinations(product, [destinationId!]);
  }
}
