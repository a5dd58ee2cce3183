import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { ok } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import type { ManagedProcess } from './support/processes.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';

const IN_FLIGHT = 30;
const DURING_OUTAGE = 10;

/**
 * Scenario 2: the Temporal dev server goes away (SIGKILL) while deliveries are mid-attempt and in
 * backoff, and comes back on the same SQLite file and port. The API and worker keep running.
 */
describe('2. Temporal dev server stopped and restarted on the same database file', () => {
  let stack: FaultStack;
  let api: ApiProcess;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('2-temporal-restart');
    api = await stack.startApi();
    worker = await stack.startWorker();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('delivers what was in flight, accepts every event sent during the outage (202) and delivers it once Temporal is back, losing nothing', async () => {
    const destination = await stack.createDestination(api, 'restart', {
      timeout_ms: 30_000,
      retry_policy: { initial_interval_ms: 2_000, max_interval_ms: 2_000, max_age_ms: 600_000 },
    });
    // Half the first copies are held (attempt in flight), half refused with 503 (delivery in backoff).
    stack.receiver.setPolicy(({ eventId, copyIndex }) => {
      if (copyIndex > 0) return ok;
      return parseInt(eventId[0]!, 16) % 2 === 0 ? { kind: 'hold', ms: 120_000 } : { kind: 'reply', status: 503 };
    });
    const before = await sendEvents(api, Array.from({ length: IN_FLIGHT }, (_, i) => depositEvent(`2-before-${i}`, i)), 10);
    expect(acknowledged(before), describeOutcomes(before)).toHaveLength(IN_FLIGHT);
    await eventually(() => (stack.receiver.allCopies().size === IN_FLIGHT ? true : undefined), 60_000, 'a first copy of every delivery');

    await stack.temporal.stop('SIGKILL');
    // The held attempts now succeed at the receiver, but their completion cannot reach Temporal.
    stack.receiver.releaseHeld();
    stack.receiver.setPolicy(() => ok);

    const readyDuringOutage = await fetch(`${api.baseUrl}/ready`);
    const duringOutage = await sendEvents(api, Array.from({ length: DURING_OUTAGE }, (_, i) => depositEvent(`2-outage-${i}`, 100 + i)), DURING_OUTAGE);
    // Ingest commits to the outbox and never waits for Temporal: every one of these is accepted.
    const refused = duringOutage.filter(({ response }) => response.status !== 202);

    await stack.temporal.startAgain();
    const repairedAt = Date.now();
    const accepted = [...acknowledged(before), ...acknowledged(duringOutage)];
    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, [destination]), 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination] });
    const running = await stack.runningWorkflowsAfter(90_000);

    const problems = [
      ...(readyDuringOutage.status === 503 ? [] : [`/ready answered ${readyDuringOutage.status} while Temporal was down`]),
      ...refused.map(({ event, response }) => `ingest of ${String(event.id)} during the outage answered ${response.status || response.error}, not 202`),
      ...(running === 0 ? [] : [`${running} delivery workflows still running`]),
      ...(worker.alive && api.child.alive ? [] : ['the API or the worker died during the outage']),
    ];
    const recovery = doneAt
      ? `${seconds(doneAt - repairedAt)} (Temporal back → all sent, the outage's events from the outbox included)`
      : 'not recovered';
    recordResult(ledgerResult('2', `Temporal SIGKILL + restart on its DB file; ingest during outage: ${describeOutcomes(duringOutage)}`, report, recovery, problems));

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
  });
});
