import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { ok } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import type { ManagedProcess } from './support/processes.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';

const EVENTS = 20;
const DELIVERY_TIMEOUT_MS = 180_000;

/**
 * Scenario 1: the worker dies without warning (SIGKILL) in the middle of attempts, and again while
 * deliveries wait in backoff; a new worker must deliver everything.
 */
describe('1. worker killed with SIGKILL', () => {
  let stack: FaultStack;
  let api: ApiProcess;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('1-worker-crash');
    api = await stack.startApi();
    worker = await stack.startWorker();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('1a: during an attempt: a new worker retries every interrupted attempt and all are delivered', async () => {
    const destination = await stack.createDestination(api, 'mid-attempt', { timeout_ms: 30_000 });
    // Every first copy is held: its attempt is in flight until the worker dies.
    stack.receiver.setPolicy(({ copyIndex }) => (copyIndex === 0 ? { kind: 'hold', ms: 120_000 } : ok));
    const sent = await sendEvents(api, Array.from({ length: EVENTS }, (_, i) => depositEvent(`1a-${i}`, i)), 10);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(EVENTS);

    await eventually(() => (stack.receiver.held() === EVENTS ? true : undefined), 60_000, `${EVENTS} attempts in flight`);
    await worker.kill('SIGKILL');
    stack.receiver.releaseHeld(); // the answers go nowhere: their sender is gone
    worker = await stack.startWorker();
    const repairedAt = Date.now();

    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, [destination]), DELIVERY_TIMEOUT_MS);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination] });
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (new worker ready → all sent)` : 'not recovered';
    recordResult(ledgerResult('1a', 'worker SIGKILL during attempts', report, recovery));
    await stack.deleteDestination(api, destination.id);

    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    // Each interrupted attempt is retried once: at-least-once, never at-most-once.
    expect(report.extraCopies).toBeLessThanOrEqual(EVENTS);
  });

  it('1b: while deliveries wait in backoff: no worker runs when the retries come due, a new one sends them all', async () => {
    const BACKOFF_MS = 3_000;
    const destination = await stack.createDestination(api, 'in-backoff', {
      retry_policy: { initial_interval_ms: BACKOFF_MS, max_interval_ms: BACKOFF_MS, max_age_ms: 600_000 },
    });
    stack.receiver.setPolicy(({ copyIndex }) => (copyIndex === 0 ? { kind: 'reply', status: 503 } : ok));
    const sent = await sendEvents(api, Array.from({ length: EVENTS }, (_, i) => depositEvent(`1b-${i}`, i)), 10);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(EVENTS);
    const eventIds = expectedEventIds(accepted, [destination]);

    // Every delivery has had its refused attempt recorded and now waits in backoff.
    await eventually(
      async () => {
        const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1) AND status = 'retrying'`, [eventIds]);
        return rows[0].n === EVENTS ? true : undefined;
      },
      60_000,
      'every delivery retrying',
    );
    await worker.kill('SIGKILL');
    // Longer than the backoff: the retries come due while no worker exists.
    await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS + 1_000));
    worker = await stack.startWorker();
    const repairedAt = Date.now();

    const doneAt = await waitForFinalStatus(stack.db, eventIds, DELIVERY_TIMEOUT_MS);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination], attemptsMatchCopies: true });
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (new worker ready → all sent)` : 'not recovered';
    const running = await stack.runningWorkflowsAfter(60_000);
    const extra = running === 0 ? [] : [`${running} delivery workflows still running after every delivery was sent`];
    recordResult(ledgerResult('1b', 'worker SIGKILL while deliveries wait in backoff', report, recovery, extra));

    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.extraCopies).toBe(0);
    expect(running).toBe(0);
  });
});
