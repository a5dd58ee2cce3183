import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/test-app.js';
import { ok } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess, type SendResult } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import type { ManagedProcess } from './support/processes.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';
import { TcpProxy } from './support/tcp-proxy.js';

const OUTAGE_MS = 4_000;

/**
 * Scenario 3: PostgreSQL becomes unreachable for the API and the worker (a TCP proxy in front of
 * the scenario's database resets every connection and refuses new ones), first during ingest,
 * then at the moment the worker records an attempt the receiver has just accepted.
 */
describe('3. PostgreSQL unavailable', () => {
  let stack: FaultStack;
  let proxy: TcpProxy;
  let api: ApiProcess;
  let worker: ManagedProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('3-postgres-outage');
    proxy = await TcpProxy.start(stack.databaseTarget);
    const databaseUrl = stack.databaseUrlVia(proxy.port);
    api = await stack.startApi({ databaseUrl });
    worker = await stack.startWorker({ databaseUrl });
  });
  afterAll(async () => {
    await proxy?.close();
    await stack?.close();
  });

  it('3a: during ingest: a clear 503 with Retry-After, never a half-written event, and everything delivered once it returns', async () => {
    const destinations = [await stack.createDestination(api, 'ingest-a'), await stack.createDestination(api, 'ingest-b')];
    const events = Array.from({ length: 70 }, (_, i) => depositEvent(`3a-${i}`, i));
    const baseline = await sendEvents(api, events.slice(0, 10), 5);
    expect(acknowledged(baseline), describeOutcomes(baseline)).toHaveLength(10);

    // Down before the requests arrive.
    await proxy.cut();
    const whileDown = await sendEvents(api, events.slice(10, 30), 10);
    await proxy.restore();
    // Down while requests are in the middle of their transaction or dispatch.
    const burst = sendEvents(api, events.slice(30), 20);
    await eventually(async () => {
      const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM events WHERE idempotency_key LIKE '3a-%'`);
      return rows[0].n >= 40 ? true : undefined;
    }, 60_000, 'the burst under way');
    await proxy.cut();
    const midFlight = await burst;
    const outageEndsAt = Date.now() + OUTAGE_MS;
    const answers = [...whileDown, ...midFlight];

    // Each event is in the database whole (its event row and one delivery row per destination) or not at all.
    const { rows: stored } = await stack.db.query(
      `SELECT e.idempotency_key, (SELECT count(*) FROM deliveries d WHERE d.source_event_id = e.id)::int AS deliveries
         FROM events e WHERE e.idempotency_key LIKE '3a-%'`,
    );
    const storedDeliveries = new Map<string, number>(stored.map((row) => [row.idempotency_key, row.deliveries]));
    const problems: string[] = [];
    for (const [key, count] of storedDeliveries) {
      if (count !== destinations.length) problems.push(`event ${key} is half-written: ${count} of ${destinations.length} delivery rows`);
    }
    for (const { event, response } of answers) {
      if (response.status === 202 && !storedDeliveries.has(String(event.id))) problems.push(`event ${String(event.id)} was acknowledged but is not stored`);
      if (response.status === 202 || response.status === 0) continue;
      if (response.status !== 503) problems.push(`ingest of ${String(event.id)} answered ${response.status} ${JSON.stringify(response.body)}`);
      else if (!response.headers?.get('retry-after')) problems.push(`ingest of ${String(event.id)} answered 503 without Retry-After`);
    }
    const refusedWhileDown = whileDown.filter(({ response }) => response.status === 503).length;
    if (refusedWhileDown !== whileDown.length) problems.push(`only ${refusedWhileDown} of ${whileDown.length} ingests sent while PostgreSQL was down answered 503 (${describeOutcomes(whileDown)})`);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageEndsAt - Date.now())));
    await proxy.restore();
    const repairedAt = Date.now();

    // The producer sends every unacknowledged event again, with the same id, until it is acknowledged.
    const resent: SendResult[] = [];
    for (const { event, response } of answers) {
      if (response.status === 202) continue;
      const retried = await eventually(async () => {
        const answer = await api.request('POST', stack.tenant('/events'), event);
        return answer.status === 202 ? answer : undefined;
      }, 60_000, `event ${String(event.id)} acknowledged after the outage`);
      resent.push({ event, response: retried });
    }
    const accepted = [...acknowledged(baseline), ...acknowledged(answers), ...acknowledged(resent)];
    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, destinations), 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations });
    if (!api.child.alive || !worker.alive) problems.push('the API or the worker died during the outage');
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (PostgreSQL back → all sent)` : 'not recovered';
    recordResult(ledgerResult('3a', `PostgreSQL down during ingest: ${describeOutcomes(answers)}, no half-written event`, report, recovery, problems));
    for (const destination of destinations) await stack.deleteDestination(api, destination.id);

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
  });

  it('3b: while the worker records an attempt: the outcome is recorded once when it returns, and not sent again', async () => {
    const destination = await stack.createDestination(api, 'record');
    const EVENTS = 5;
    // Every first copy is held until all are in flight; then PostgreSQL goes away and the receiver
    // accepts them all: the worker has five 200s to record while the database is unreachable.
    stack.receiver.setPolicy(({ copyIndex }) => (copyIndex === 0 ? { kind: 'hold', ms: 120_000 } : ok));
    const sent = await sendEvents(api, Array.from({ length: EVENTS }, (_, i) => depositEvent(`3b-${i}`, i)), EVENTS);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(EVENTS);
    await eventually(() => (stack.receiver.held() === EVENTS ? true : undefined), 60_000, `${EVENTS} attempts in flight`);
    await proxy.cut();
    stack.receiver.releaseHeld();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await proxy.restore();
    const repairedAt = Date.now();

    const doneAt = await waitForFinalStatus(stack.db, expectedEventIds(accepted, [destination]), 180_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination], attemptsMatchCopies: true });
    const problems = api.child.alive && worker.alive ? [] : ['the API or the worker died during the outage'];
    const recovery = doneAt ? `${seconds(doneAt - repairedAt)} (PostgreSQL back → all recorded)` : 'not recovered';
    recordResult(ledgerResult('3b', `PostgreSQL down for ${seconds(OUTAGE_MS)} as the worker records accepted attempts`, report, recovery, problems));

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
    // A 200 that was never recorded would make the worker send the webhook again.
    expect(report.extraCopies).toBe(0);
  });
});
