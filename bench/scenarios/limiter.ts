import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { historyCost, type HistoryCost } from '../support/history.js';
import type { Product } from '../support/product.js';
import { phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { busiestWindow, nowMs, runConcurrently, waitFor } from '../support/stats.js';
import { BENCH_UID, deleteDestinations } from './product.js';

/**
 * Each run queues its deliveries at once and lets the limiter spread them: about 20 s per run.
 * 5/s gets a quarter of the deliveries for the same length; 400 of them would take 80 s.
 */
export const LIMITER_RUNS: ReadonlyArray<{ ratePerSecond: number; deliveries: number }> = [
  { ratePerSecond: 20, deliveries: 400 },
  { ratePerSecond: 5, deliveries: 100 },
];

/** MAX_IN_FLIGHT_LIMIT of the destination API. */
export const LIMITER_MAX_IN_FLIGHT = 10_000;

export interface LimiterRun {
  configuredPerSecond: number;
  deliveries: number;
  /** How long it took to ingest them all (C in flight): far less than the limiter spreads them over. */
  ingestSeconds: number;
  /** Last arrival at the sink − first arrival. */
  spanSeconds: number;
  /** deliveries ÷ span. */
  achievedPerSecond: number;
  /** (deliveries − 1) ÷ span: the spacing the limiter kept, without the +1 of counting both ends. */
  intervalsPerSecond: number;
  /** The most arrivals in any 1 s and any 10 s window. */
  busiest1s: number;
  busiest10s: number;
  /** Requests the sink received for these deliveries (1 per delivery: holds send nothing). */
  sinkRequests: number;
  history: HistoryCost;
  /** Event types of the last delivery ingested: queued behind all the others, it was certainly held. */
  heldHistory: string[];
}

export interface LimiterResult {
  runs: LimiterRun[];
}

/**
 * Limiter accuracy: a destination with `rate_limit_per_second`, its deliveries all queued within
 * a second or two, their arrival times at the sink read back. Every delivery but the first few is
 * held by the gate (a timer to its reserved slot), so the histories show what a hold costs.
 */
export async function limiterRun(options: { product: Product; sink: Sink; client: Client; db: pg.Pool; concurrency: number; runId: string }): Promise<LimiterResult> {
  const runs: LimiterRun[] = [];
  for (const { ratePerSecond, deliveries } of LIMITER_RUNS) runs.push(await limiterOnce({ ...options, ratePerSecond, deliveries }));
  return { runs };
}

async function limiterOnce(options: {
  product: Product;
  sink: Sink;
  client: Client;
  db: pg.Pool;
  concurrency: number;
  runId: string;
  ratePerSecond: number;
  deliveries: number;
}): Promise<LimiterRun> {
  const { product, sink, client, db, concurrency, runId, ratePerSecond, deliveries } = options;
  const label = `limiter-${ratePerSecond}`;
  phase(`limiter: ${deliveries} deliveries queued at once to a destination limited to ${ratePerSecond}/s`);
  const response = await product.request<{ id: string; rate_limit_per_second: number | null }>('POST', product.tenant('/destinations'), {
    name: `bench-${runId}-${label}`,
    url: `${sink.url}/limited`,
    headers: { 'X-Shared-Secret': 'bench' },
    // A canonical event no other phase maps: each event makes exactly this one delivery.
    event_map: { subscribed: 'Subscribe' },
    rate_limit_per_second: ratePerSecond,
    // The highest cap the API takes: only the rate limit holds deliveries here. With the default
    // (20), attempts slowed by a loaded machine fill the cap at 20/s and the run measures both.
    max_in_flight: LIMITER_MAX_IN_FLIGHT,
  });
  if (response.status !== 201) throw new Error(`creating the limited destination answered ${response.status}: ${JSON.stringify(response.body)}`);
  if (response.body.rate_limit_per_second !== ratePerSecond) throw new Error(`the limited destination shows rate_limit_per_second ${response.body.rate_limit_per_second}, not ${ratePerSecond}`);
  const destinationId = response.body.id;
  try {
    const ingest = async (id: string): Promise<string> => {
      const reply = await product.request<{ deliveries: Array<{ event_id: string }> }>('POST', product.tenant('/events'), { id, canonical: 'subscribed', uid: BENCH_UID });
      if (reply.status !== 202 || reply.body.deliveries.length !== 1) throw new Error(`limiter ingest answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body.deliveries[0]!.event_id;
    };
    let expectedSent = 0;
    const settled = async (what: string) => {
      await waitFor(
        async () => {
          const sent = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE destination_id = $1 AND status = 'sent'`, [destinationId])).rows[0]!.n);
          return sent >= expectedSent && (await client.workflow.count(`DestinationId="${destinationId}" AND ExecutionStatus="Running"`)).count === 0;
        },
        300_000,
        what,
        100,
      );
    };

    // Warm-up, not measured: one second's worth through the limiter. Once it has arrived, the
    // limiter's next slot lies in the past and the measured deliveries start from an idle limiter.
    const warmup = Math.max(1, Math.ceil(ratePerSecond));
    await runConcurrently(warmup, concurrency, async (i) => void (await ingest(`${runId}-${label}-warmup-${i}`)));
    expectedSent += warmup;
    await settled(`${label} warm-up deliveries`);
    await sink.reset();

    const eventIds: string[] = [];
    const stop = ticker(async () => `${eventIds.length}/${deliveries} ingested, ${(await sink.stats()).ids}/${deliveries} delivered at ${ratePerSecond}/s`);
    const t0 = nowMs();
    try {
      await runConcurrently(deliveries, concurrency, async (i) => void eventIds.push(await ingest(`${runId}-${label}-${i}`)));
      const ingestSeconds = (nowMs() - t0) / 1000;
      // The limiter needs deliveries ÷ rate seconds; twice that plus a minute is a stuck run, not a slow one.
      await waitFor(async () => (await sink.stats()).ids >= deliveries, (2 * deliveries * 1000) / ratePerSecond + 60_000, `${deliveries} limited deliveries at the sink`, 50);
      expectedSent += deliveries;
      await settled(`${label} deliveries to be recorded as sent`);
      stop();

      const [arrivals, stats] = await Promise.all([sink.arrivals(), sink.stats()]);
      const instants = eventIds.map((eventId) => {
        const arrival = arrivals.get(eventId);
        if (arrival === undefined) throw new Error(`limited delivery ${eventId} never reached the sink`);
        return arrival;
      });
      const spanMs = Math.max(...instants) - Math.min(...instants);
      const history = await historyCost(client, eventIds.map((eventId) => `delivery-${eventId}`));
      const { sample: heldHistory } = await historyCost(client, [`delivery-${eventIds.at(-1)!}`]);
      return {
        configuredPerSecond: ratePerSecond,
        deliveries,
        ingestSeconds,
        spanSeconds: spanMs / 1000,
        achievedPerSecond: (deliveries * 1000) / spanMs,
        intervalsPerSecond: ((deliveries - 1) * 1000) / spanMs,
        busiest1s: busiestWindow(instants, 1_000),
        busiest10s: busiestWindow(instants, 10_000),
        sinkRequests: stats.requests,
        history,
        heldHistory,
      };
    } finally {
      stop();
    }
  } finally {
    await deleteDestinations(product, [destinationId]);
  }
}
