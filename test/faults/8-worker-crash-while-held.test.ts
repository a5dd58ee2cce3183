import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { ok, type Copy, type Reply } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import type { ManagedProcess } from './support/processes.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';

const DELIVERY_TIMEOUT_MS = 180_000;

// 8a: a rate limit and a cap on attempts in flight.
const LIMITED_EVENTS = 100;
const RATE_PER_SECOND = 5;
const MAX_IN_FLIGHT = 2;
/** Over any window this long the receiver may see at most RATE_CEILING_PER_SECOND per second on average. */
const RATE_WINDOW_MS = 10_000;
const RATE_CEILING_PER_SECOND = 5.5;
/**
 * The receiver holds each copy before answering 200, so attempts overlap and the cap is measurable:
 * a fifth of the event_ids long (the cap binds: 2 in flight at 1 s each is 2/s), the rest short
 * (the rate binds: 2 in flight at 50 ms each would allow 40/s). Keyed by event_id, not arrival order.
 */
const LONG_HOLD_MS = 1_000;
const SHORT_HOLD_MS = 50;

// 8b: an open breaker.
const BREAKER_EVENTS = 30;
const BREAKER_FAILURE_THRESHOLD = 3;
const BREAKER_COOLDOWN_MS = 3_000;
/** Requests are counted over this long while the breaker is open, once before the SIGKILL and once after the new worker is ready. */
const OPEN_WINDOW_MS = 10_000;
/** Attempts admitted before the breaker opened may still be on their way this long after it was seen open. */
const OPEN_SETTLE_MS = 500;
/** Probes are at least one cool-down apart: a window holds at most this many. */
const MAX_PROBES_PER_WINDOW = Math.floor(OPEN_WINDOW_MS / BREAKER_COOLDOWN_MS) + 1;
/** And they keep coming: a window holds at least this many (one cool-down of slack for timers and a busy machine). */
const MIN_PROBES_PER_WINDOW = Math.floor(OPEN_WINDOW_MS / BREAKER_COOLDOWN_MS) - 1;

/** Every worker of this scenario: a breaker that opens and cools down within seconds. */
const WORKER_ENV = {
  BREAKER_FAILURE_THRESHOLD: String(BREAKER_FAILURE_THRESHOLD),
  BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
};

function holdFor(eventId: string): Reply {
  const long = createHash('sha256').update(eventId).digest().readUInt8(0) % 5 === 0;
  return { kind: 'hold', ms: long ? LONG_HOLD_MS : SHORT_HOLD_MS };
}

/**
 * The most copies the receiver had open at once (arrival to answer or hang-up); an exchange that
 * ends in the same millisecond another one starts does not overlap it.
 */
function peakInFlight(copies: Copy[], nowMs = Date.now()): { peak: number; atMs: number | undefined } {
  const edges = copies.flatMap((copy) => [
    { atMs: copy.receivedAtMs, delta: 1 },
    { atMs: copy.endedAtMs ?? nowMs, delta: -1 },
  ]);
  edges.sort((a, b) => a.atMs - b.atMs || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  let atMs: number | undefined;
  for (const edge of edges) {
    open += edge.delta;
    if (open > peak) {
      peak = open;
      atMs = edge.atMs;
    }
  }
  return { peak, atMs };
}

/** The most copies that arrived within any window of `windowMs` (arrival times, half-open windows). */
function peakInWindow(copies: Copy[], windowMs: number): { count: number; fromMs: number | undefined } {
  const times = copies.map((copy) => copy.receivedAtMs).sort((a, b) => a - b);
  let count = 0;
  let fromMs: number | undefined;
  for (let first = 0, last = 0; first < times.length; first++) {
    while (last < times.length && times[last]! < times[first]! + windowMs) last++;
    if (last - first > count) {
      count = last - first;
      fromMs = times[first];
    }
  }
  return { count, fromMs };
}

function arrivedBetween(copies: Copy[], fromMs: number, toMs: number): number {
  return copies.filter((copy) => copy.receivedAtMs >= fromMs && copy.receivedAtMs < toMs).length;
}

async function sleepUntil(atMs: number): Promise<void> {
  const wait = atMs - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Scenario 8: the worker dies without warning while deliveries are held by the traffic gate (a
 * rate limit and a cap on attempts in flight; an open circuit breaker). The gate's state lives in
 * PostgreSQL and the holds are Temporal timers, so a new worker must deliver everything without
 * ever going past the limits, and must keep probing an open breaker at one request per cool-down.
 */
describe('8. worker killed with SIGKILL while deliveries are held by the traffic gate', () => {
  let stack: FaultStack;
  let api: ApiProcess;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('8-worker-crash-while-held');
    api = await stack.startApi();
    worker = await stack.startWorker({ env: WORKER_ENV });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`8a: waiting on ${RATE_PER_SECOND}/s and ${MAX_IN_FLIGHT} in flight: a new worker delivers all, never past either limit`, async () => {
    const destination = await stack.createDestination(api, 'limited', { rate_limit_per_second: RATE_PER_SECOND, max_in_flight: MAX_IN_FLIGHT });
    stack.receiver.setPolicy(({ eventId }) => holdFor(eventId));
    const sent = await sendEvents(api, Array.from({ length: LIMITED_EVENTS }, (_, i) => depositEvent(`8a-${i}`, i)), 10);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(LIMITED_EVENTS);
    const eventIds = expectedEventIds(accepted, [destination]);
    const copies = () => stack.receiver.copiesAt(destination.path);

    // A few seconds in: some sent, most waiting on the limits, a long attempt in flight at the receiver.
    const open = () => copies().filter((copy) => copy.endedAtMs === undefined);
    const longOpen = () => open().some((copy) => copy.reply.kind === 'hold' && copy.reply.ms === LONG_HOLD_MS);
    await eventually(() => (copies().length >= 10 && longOpen() ? true : undefined), 60_000, 'ten copies received and a long one held');
    const inFlightAtKill = open().length;
    await worker.kill('SIGKILL');
    const killedAt = Date.now();
    // What the dead worker left: nothing writes to these tables until the next worker starts.
    const { rows: before } = await stack.db.query(
      `SELECT (SELECT count(*)::int FROM deliveries WHERE event_id = ANY($1) AND status = 'sent') AS sent,
              (SELECT count(*)::int FROM destination_waiters WHERE destination_id = $2) AS queued,
              (SELECT count(*)::int FROM destination_leases WHERE destination_id = $2) AS leased`,
      [eventIds, destination.id],
    );
    worker = await stack.startWorker({ env: WORKER_ENV });
    const repairedAt = Date.now();

    const doneAt = await waitForFinalStatus(stack.db, eventIds, DELIVERY_TIMEOUT_MS);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination] });
    const all = copies();
    const inFlight = peakInFlight(all);
    const rate = peakInWindow(all, RATE_WINDOW_MS);
    const rateCeiling = Math.floor((RATE_CEILING_PER_SECOND * RATE_WINDOW_MS) / 1000);
    const when = (atMs: number | undefined) =>
      atMs === undefined ? 'at no time' : atMs < killedAt ? `${seconds(killedAt - atMs)} before the SIGKILL` : `${seconds(atMs - killedAt)} after the SIGKILL`;
    const limits: string[] = [];
    if (inFlight.peak > MAX_IN_FLIGHT) limits.push(`the receiver had ${inFlight.peak} requests in flight at once (${when(inFlight.atMs)}), max_in_flight is ${MAX_IN_FLIGHT}`);
    if (rate.count > rateCeiling) {
      limits.push(`the receiver got ${rate.count} requests within ${seconds(RATE_WINDOW_MS)} starting ${when(rate.fromMs)}: ${(rate.count / (RATE_WINDOW_MS / 1000)).toFixed(1)}/s, over ${RATE_CEILING_PER_SECOND}/s`);
    }
    if (report.extraCopies > MAX_IN_FLIGHT) limits.push(`${report.extraCopies} extra copies; at most the ${MAX_IN_FLIGHT} attempts in flight at the SIGKILL may repeat`);
    const running = await stack.runningWorkflowsAfter(60_000);
    if (running !== 0) limits.push(`${running} delivery workflows still running after every delivery was sent`);
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (new worker ready → all sent)` : 'not recovered';
    const scenario =
      `worker SIGKILL while ${LIMITED_EVENTS - before[0].sent} of ${LIMITED_EVENTS} deliveries wait on ${RATE_PER_SECOND}/s and max ${MAX_IN_FLIGHT} in flight ` +
      `(${inFlightAtKill} at the receiver, ${before[0].leased} leases left by the dead worker, ${before[0].queued} queued for a slot): receiver peak ${inFlight.peak} in flight, ${(rate.count / (RATE_WINDOW_MS / 1000)).toFixed(1)}/s over ${seconds(RATE_WINDOW_MS)}`;
    recordResult(ledgerResult('8a', scenario, report, recovery, limits));
    await stack.deleteDestination(api, destination.id);

    expect(limits).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(inFlight.peak).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(rate.count).toBeLessThanOrEqual(rateCeiling);
    expect(report.extraCopies).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  });

  it(`8b: breaker open (threshold ${BREAKER_FAILURE_THRESHOLD}, cool-down ${BREAKER_COOLDOWN_MS / 1000} s): one probe per cool-down before and after a new worker, then each delivery exactly once`, async () => {
    const destination = await stack.createDestination(api, 'breaker');
    const failing: Reply = { kind: 'reply', status: 503 };
    stack.receiver.setPolicy(() => failing);
    const sent = await sendEvents(api, Array.from({ length: BREAKER_EVENTS }, (_, i) => depositEvent(`8b-${i}`, i)), 10);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(BREAKER_EVENTS);
    const eventIds = expectedEventIds(accepted, [destination]);
    const copies = () => stack.receiver.copiesAt(destination.path);
    const breakerState = async (): Promise<string | undefined> => {
      const response = await api.request('GET', stack.tenant(`/destinations/${destination.id}`));
      return response.status === 200 ? response.body.health?.breaker : undefined;
    };

    const openSeenAt = await eventually(async () => ((await breakerState()) === 'open' ? Date.now() : undefined), 60_000, 'health.breaker open');
    const firstWave = arrivedBetween(copies(), 0, openSeenAt + OPEN_SETTLE_MS);
    const beforeFrom = openSeenAt + OPEN_SETTLE_MS;
    await sleepUntil(beforeFrom + OPEN_WINDOW_MS);
    const probesBefore = arrivedBetween(copies(), beforeFrom, beforeFrom + OPEN_WINDOW_MS);

    // Killed in the middle of a cool-down, not while a probe is answered and recorded: every copy has its attempt row.
    // Should requests keep coming (a breaker that holds nothing), it is killed anyway and the row says so.
    const quiet = await eventually(
      async () => {
        const last = copies().at(-1);
        return last !== undefined && Date.now() - last.receivedAtMs >= 1_000 && Date.now() - last.receivedAtMs < BREAKER_COOLDOWN_MS - 500 && (await breakerState()) === 'open'
          ? true
          : undefined;
      },
      15_000,
      'a quiet moment of the cool-down',
    ).then(
      () => true,
      () => false,
    );
    await worker.kill('SIGKILL');
    const killedAt = Date.now();
    worker = await stack.startWorker({ env: WORKER_ENV });
    const readyAt = Date.now();
    // From a moment after the exit: a request the dead worker wrote just before it may still be read.
    const whileDead = arrivedBetween(copies(), killedAt + 200, readyAt);
    // The held workflows' timers fired while no worker ran; their workflow tasks went to the dead
    // worker's sticky queue and reach the new worker only once Temporal gives up on it (the sticky schedule-to-start timeout, 10 s by default).
    // The window after the restart starts with the first request the new worker makes.
    const afterFrom = await eventually(() => copies().find((copy) => copy.receivedAtMs >= readyAt)?.receivedAtMs, 60_000, 'a probe from the new worker');
    await sleepUntil(afterFrom + OPEN_WINDOW_MS);
    const probesAfter = arrivedBetween(copies(), afterFrom, afterFrom + OPEN_WINDOW_MS);
    const stateAfter = await breakerState();

    stack.receiver.setPolicy(() => ok);
    const repairedAt = Date.now();
    const doneAt = await waitForFinalStatus(stack.db, eventIds, DELIVERY_TIMEOUT_MS);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination], attemptsMatchCopies: true });
    const stateEnd = await breakerState();

    const problems: string[] = [];
    const window = seconds(OPEN_WINDOW_MS);
    if (!quiet) problems.push(`no quiet second in 15 s while the breaker was open: requests kept coming`);
    if (probesBefore > MAX_PROBES_PER_WINDOW) problems.push(`${probesBefore} requests in ${window} while the breaker was open before the SIGKILL; one probe per ${seconds(BREAKER_COOLDOWN_MS)} allows ${MAX_PROBES_PER_WINDOW}`);
    if (probesAfter > MAX_PROBES_PER_WINDOW) problems.push(`${probesAfter} requests in ${window} while the breaker was open after the new worker started; one probe per ${seconds(BREAKER_COOLDOWN_MS)} allows ${MAX_PROBES_PER_WINDOW}`);
    if (probesBefore < MIN_PROBES_PER_WINDOW || probesAfter < MIN_PROBES_PER_WINDOW) {
      problems.push(`probing stalled: ${probesBefore} requests in ${window} before the SIGKILL, ${probesAfter} after the new worker; one per ${seconds(BREAKER_COOLDOWN_MS)} means at least ${MIN_PROBES_PER_WINDOW}`);
    }
    if (whileDead !== 0) problems.push(`${whileDead} requests arrived while no worker ran`);
    if (stateAfter !== 'open' && stateAfter !== 'half_open') problems.push(`health.breaker was ${stateAfter} while the receiver still refused every copy`);
    if (stateEnd !== 'closed') problems.push(`health.breaker was ${stateEnd} after every delivery was sent`);
    if (report.extraCopies !== 0) problems.push(`${report.extraCopies} extra copies: a delivery the receiver had accepted came again`);
    const running = await stack.runningWorkflowsAfter(60_000);
    if (running !== 0) problems.push(`${running} delivery workflows still running after every delivery was sent`);
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (receiver answers 200 → all sent)` : 'not recovered';
    const scenario =
      `worker SIGKILL while the breaker is open (threshold ${BREAKER_FAILURE_THRESHOLD}, cool-down ${seconds(BREAKER_COOLDOWN_MS)}): ` +
      `${firstWave} requests until it opened, then ${probesBefore} in ${window} before the SIGKILL, ${whileDead} while no worker ran, ${probesAfter} in ${window} from the new worker's first (${seconds(afterFrom - readyAt)} after it was ready)`;
    recordResult(ledgerResult('8b', scenario, report, recovery, problems));
    await stack.deleteDestination(api, destination.id);

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.extraCopies).toBe(0);
    expect(probesBefore).toBeLessThanOrEqual(MAX_PROBES_PER_WINDOW);
    expect(probesAfter).toBeLessThanOrEqual(MAX_PROBES_PER_WINDOW);
    expect(Math.min(probesBefore, probesAfter)).toBeGreaterThanOrEqual(MIN_PROBES_PER_WINDOW);
  });
});
