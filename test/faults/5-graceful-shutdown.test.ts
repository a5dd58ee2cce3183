import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { ok } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventId, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import { describeExit, type ManagedProcess, type ProcessExit } from './support/processes.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';
import { TcpProxy } from './support/tcp-proxy.js';

const EVENTS = 10;
const IN_FLIGHT_REQUESTS = 20;
/** Longer than the worker's 20 s shutdown grace plus Nest's teardown. */
const EXIT_TIMEOUT_MS = 60_000;

/** SIGTERM ends a Nest process by re-raising the signal after its shutdown hooks ran; a code 1 means they failed. */
function exitedGracefully(exit: ProcessExit): boolean {
  return exit.signal === 'SIGTERM' || exit.code === 0;
}

async function exitWithin(process: ManagedProcess, timeoutMs: number): Promise<ProcessExit | undefined> {
  return Promise.race([process.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs))]);
}

/** Scenario 5: SIGTERM to the worker during attempts and to the API during requests. */
describe('5. graceful shutdown', () => {
  let stack: FaultStack;
  let databaseLink: TcpProxy;
  let api: ApiProcess;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('5-graceful-shutdown');
    // The API reaches PostgreSQL through a proxy the scenario can stall (ingest waits only for its commit).
    databaseLink = await TcpProxy.start(stack.databaseTarget);
    api = await stack.startApi({ databaseUrl: stack.databaseUrlVia(databaseLink.port) });
    worker = await stack.startWorker();
  });
  afterAll(async () => {
    await databaseLink?.close();
    await stack?.close();
  });

  it('5a: SIGTERM to the worker: attempts in flight finish and are recorded, the rest is sent by the next worker', async () => {
    const held = await stack.createDestination(api, 'held', { timeout_ms: 30_000 });
    const backoff = await stack.createDestination(api, 'backoff', { retry_policy: { initial_interval_ms: 2_000, max_interval_ms: 2_000, max_age_ms: 600_000 } });
    const destinations = [held, backoff];
    stack.receiver.setPolicy(({ path, copyIndex }) => {
      if (copyIndex > 0) return ok;
      return path === held.path ? { kind: 'hold', ms: 120_000 } : { kind: 'reply', status: 503 };
    });
    const sent = await sendEvents(api, Array.from({ length: EVENTS }, (_, i) => depositEvent(`5a-${i}`, i)), EVENTS);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(EVENTS);
    const heldIds = accepted.map((event) => expectedEventId(event.id, held.id));
    const backoffIds = accepted.map((event) => expectedEventId(event.id, backoff.id));
    await eventually(async () => {
      const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1) AND status = 'retrying'`, [backoffIds]);
      return stack.receiver.held() === EVENTS && rows[0].n === EVENTS ? true : undefined;
    }, 60_000, 'attempts in flight and deliveries in backoff');

    const sigtermAt = Date.now();
    worker.signal('SIGTERM');
    // The receiver answers a while after the signal: the stopping worker must still be there to take the answers.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stack.receiver.releaseHeld();
    const exit = await exitWithin(worker, EXIT_TIMEOUT_MS);
    const exitedAt = Date.now();
    const { rows: recorded } = await stack.db.query(
      `SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1) AND status = 'sent' AND attempt_count = 1`,
      [heldIds],
    );

    worker = await stack.startWorker();
    const restartedAt = Date.now();
    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, destinations), 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations, attemptsMatchCopies: true });
    const running = await stack.runningWorkflowsAfter(60_000);
    const problems = [
      ...(exit === undefined ? [`the worker had not exited ${seconds(EXIT_TIMEOUT_MS)} after SIGTERM`] : []),
      ...(exit && !exitedGracefully(exit) ? [`the worker exited with ${describeExit(exit)} after SIGTERM`] : []),
      ...(recorded[0].n === EVENTS ? [] : [`only ${recorded[0].n} of ${EVENTS} attempts in flight at SIGTERM were finished and recorded by the stopping worker`]),
      ...(running === 0 ? [] : [`${running} delivery workflows still running`]),
    ];
    const recovery = doneAt
      ? `${seconds(exitedAt - sigtermAt)} (SIGTERM → in-flight attempts recorded, worker exited); ${seconds(doneAt - restartedAt)} (next worker → rest sent)`
      : 'not recovered';
    recordResult(ledgerResult('5a', 'worker SIGTERM with attempts in flight and deliveries in backoff', report, recovery, problems));
    for (const destination of destinations) await stack.deleteDestination(api, destination.id);

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.extraCopies).toBe(0);
  });

  it('5b: SIGTERM to the API: requests in flight complete with 202 and are delivered', async () => {
    const destination = await stack.createDestination(api, 'in-flight');
    stack.receiver.setPolicy(() => ok);
    // Statements stall, so every request is inside the API (authenticated or storing) when the signal comes.
    databaseLink.pause();
    const inFlight = sendEvents(api, Array.from({ length: IN_FLIGHT_REQUESTS }, (_, i) => depositEvent(`5b-${i}`, i)), IN_FLIGHT_REQUESTS);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const sigtermAt = Date.now();
    api.child.signal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    databaseLink.resume();
    const answers = await inFlight;
    const answeredAt = Date.now();
    const exit = await exitWithin(api.child, EXIT_TIMEOUT_MS);
    const exitedAt = Date.now();

    const accepted = acknowledged(answers);
    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, [destination]), 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination] });
    const problems = [
      ...(accepted.length === IN_FLIGHT_REQUESTS ? [] : [`only ${accepted.length} of ${IN_FLIGHT_REQUESTS} requests in flight at SIGTERM were answered 202 (${describeOutcomes(answers)})`]),
      ...(exit === undefined ? [`the API had not exited ${seconds(EXIT_TIMEOUT_MS)} after SIGTERM`] : []),
      ...(exit && !exitedGracefully(exit) ? [`the API exited with ${describeExit(exit)} after SIGTERM`] : []),
    ];
    const recovery = doneAt ? `${seconds(answeredAt - sigtermAt)} (SIGTERM → last request answered); API exited after ${seconds(exitedAt - sigtermAt)}` : 'not recovered';
    recordResult(ledgerResult('5b', `API SIGTERM with ${IN_FLIGHT_REQUESTS} ingests in flight: ${describeOutcomes(answers)}`, report, recovery, problems));

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
  });
});
