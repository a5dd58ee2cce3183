import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';
import type { ManagedProcess } from './support/processes.js';

const BATCH = 200;
const CONCURRENCY = 8;

/**
 * Scenario 4: the API dies (SIGKILL) in the middle of a producer's batch, with requests committed
 * to the outbox but not yet dispatched to Temporal (no dispatcher runs: the worker is stopped); the
 * producer sends the whole batch again with the same ids, and a new worker dispatches.
 */
describe('4. API killed in the middle of ingesting a batch', () => {
  let stack: FaultStack;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('4-api-crash');
    worker = await stack.startWorker();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('re-sending the batch with the same ids gives exactly one delivery per (event, destination), none missing', async () => {
    const firstApi: ApiProcess = await stack.startApi();
    const destinations = [await stack.createDestination(firstApi, 'batch-a'), await stack.createDestination(firstApi, 'batch-b')];
    const batch = Array.from({ length: BATCH }, (_, i) => depositEvent(`4-${i}`, i));

    const firstHalf = await sendEvents(firstApi, batch.slice(0, BATCH / 2), CONCURRENCY);
    expect(acknowledged(firstHalf), describeOutcomes(firstHalf)).toHaveLength(BATCH / 2);

    // No dispatcher from here on: the next requests' rows stay in the outbox. The worker stops
    // gracefully once the first half is sent, so no attempt is interrupted: the fault under test
    // is the API's, and every copy beyond one per delivery would be its doing.
    await waitForFinalStatus(stack.db, expectedEventIds(acknowledged(firstHalf), destinations), 120_000);
    await worker.stop();
    const secondHalf = sendEvents(firstApi, batch.slice(BATCH / 2), CONCURRENCY);
    await eventually(async () => {
      const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE dispatched_at IS NULL`);
      return rows[0].n >= CONCURRENCY * destinations.length ? true : undefined;
    }, 60_000, 'requests stored and waiting in the outbox');
    await firstApi.child.kill('SIGKILL');
    const interrupted = await secondHalf;
    const { rows: undispatched } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE dispatched_at IS NULL`);

    await stack.startWorker();
    const secondApi = await stack.startApi();
    const repairedAt = Date.now();
    const resent = await sendEvents(secondApi, batch, CONCURRENCY);
    const accepted = acknowledged(resent);
    const eventIds = expectedEventIds(accepted, destinations);
    const doneAt = await waitForFinalStatus(stack.db, eventIds, 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations });

    // One workflow run per delivery: a second dispatch of the same event_id must not start another.
    const client = await stack.temporalClientFor();
    const runs = new Map<string, number>();
    for await (const execution of client.workflow.list()) runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
    const problems = [
      ...(accepted.length === BATCH ? [] : [`only ${accepted.length} of ${BATCH} re-sent events were acknowledged (${describeOutcomes(resent)})`]),
      ...eventIds.filter((eventId) => runs.get(`delivery-${eventId}`) !== 1).map((eventId) => `delivery-${eventId} has ${runs.get(`delivery-${eventId}`) ?? 0} workflow runs`),
      ...(report.copies === report.deliveries ? [] : [`the receiver got ${report.copies} copies for ${report.deliveries} deliveries`]),
    ];
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (new worker and API ready → all sent)` : 'not recovered';
    recordResult(
      ledgerResult(
        '4',
        `API SIGKILL mid-batch with ${undispatched[0].n} deliveries in the outbox, no worker (${describeOutcomes(interrupted)}); batch re-sent`,
        report,
        recovery,
        problems,
      ),
    );

    expect(undispatched[0].n).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
  });
});
