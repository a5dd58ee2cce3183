import type pg from 'pg';
import type { Product } from '../support/product.js';
import { phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, perSecond, runConcurrently, waitFor } from '../support/stats.js';
import { BENCH_UID } from './product.js';

/** Five pages of the recovery workflow, so the figure includes its continue-as-new. */
export const RECOVERY_BENCH_DELIVERIES = 2_500;

export interface RecoveryResult {
  deliveries: number;
  events: number;
  fanout: number;
  /** Until every delivery had failed once against the sink answering 400 (the setup, not measured further). */
  failedSeconds: number;
  /** From POST …/recover until the recovery's state was `completed`: claims and workflow starts. */
  recoverySeconds: number;
  /** From POST …/recover until the sink had accepted every delivery again. */
  resendSeconds: number;
  /** Deliveries given a new run per second by the recovery workflow. */
  retriedPerSecond: number;
  /** Deliveries re-sent (accepted by the sink) per second: the figure next to the product's throughput. */
  resentPerSecond: number;
  matched: number;
  retried: number;
  skipped: number;
}

/**
 * Recovery throughput: D deliveries (D / F events × F destinations) fail permanently against a
 * sink answering 400, the sink turns to 200, and one account-wide `POST …/recover` sends them all
 * again. Measured: how fast the recovery workflow claims and restarts them, and how fast they then
 * reach the sink. Runs in an account of its own, so the recovery finds this phase's deliveries only.
 */
export async function recoveryRun(options: { product: Product; sink: Sink; db: pg.Pool; deliveries: number; fanout: number; concurrency: number; runId: string }): Promise<RecoveryResult> {
  const { product, sink, db, fanout, concurrency, runId } = options;
  const events = Math.ceil(options.deliveries / fanout);
  const deliveries = events * fanout;
  phase(`recovery: ${deliveries} failed deliveries (${events} events × ${fanout}) sent again by one POST …/recover`);
  const accountId = `bench-${runId}-recovery`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64);
  const tenant = (path: string) => `/v1/accounts/${accountId}${path}`;
  const created = await product.request('PUT', `/v1/accounts/${accountId}`, { name: 'benchmark recovery', enabled: true });
  if (created.status !== 201) throw new Error(`creating the recovery account answered ${created.status}`);
  for (let k = 0; k < fanout; k++) {
    const response = await product.request('POST', tenant('/destinations'), { name: `bench-recovery-${k}`, url: `${sink.url}/recovery${k}`, event_map: { deposit: 'Purchase' } });
    if (response.status !== 201) throw new Error(`creating a destination answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  const countStatus = async (status: string) =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE account_id = $1 AND status = $2`, [accountId, status])).rows[0]!.n);

  await sink.reset();
  await sink.answer(400);
  const since = new Date(Date.now() - 60_000).toISOString();
  const failStart = nowMs();
  let stop = ticker(async () => `${await countStatus('failed')}/${deliveries} failed once (400)`);
  try {
    await runConcurrently(events, concurrency, async (i) => {
      const response = await product.request('POST', tenant('/events'), {
        id: `${runId}-recovery-${i}`,
        canonical: 'deposit',
        uid: BENCH_UID,
        data: { value: '1.00', currency: 'USD' },
      });
      if (response.status !== 202) throw new Error(`recovery ingest answered ${response.status}: ${JSON.stringify(response.body)}`);
    });
    await waitFor(async () => (await countStatus('failed')) === deliveries, 900_000, 'every recovery delivery to fail once', 500);
  } finally {
    stop();
  }
  const failedSeconds = (nowMs() - failStart) / 1000;

  await sink.reset();
  await sink.answer(200);
  const start = nowMs();
  const started = await product.request<{ id: string }>('POST', tenant('/recover'), { since });
  if (started.status !== 202) throw new Error(`POST …/recover answered ${started.status}: ${JSON.stringify(started.body)}`);
  let recovery: { state: string; matched: number; retried: number; skipped: number } = { state: 'running', matched: 0, retried: 0, skipped: 0 };
  let recoveredAt: number | undefined;
  stop = ticker(async () => `recovery ${recovery.state}: ${recovery.retried}/${deliveries} retried, ${(await sink.stats()).succeeded}/${deliveries} accepted`);
  try {
    await waitFor(
      async () => {
        if (recoveredAt === undefined) {
          recovery = (await product.request('GET', tenant(`/recoveries/${started.body.id}`))).body;
          if (recovery.state !== 'running') recoveredAt = nowMs();
        }
        return recoveredAt !== undefined && (await sink.stats()).succeeded >= deliveries;
      },
      900_000,
      'the recovered deliveries to reach the sink',
      200,
    );
  } finally {
    stop();
  }
  const resentAt = Math.max(...(await sink.arrivals(true)).values());
  if (recovery.state !== 'completed') throw new Error(`the recovery ended ${recovery.state}`);
  const recoverySeconds = (recoveredAt! - start) / 1000;
  const resendSeconds = (resentAt - start) / 1000;
  return {
    deliveries,
    events,
    fanout,
    failedSeconds,
    recoverySeconds,
    resendSeconds,
    retriedPerSecond: perSecond(recovery.retried, recoveredAt! - start),
    resentPerSecond: perSecond(deliveries, resentAt - start),
    matched: recovery.matched,
    retried: recovery.retried,
    skipped: recovery.skipped,
  };
}
