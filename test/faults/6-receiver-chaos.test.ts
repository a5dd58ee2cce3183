import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type Reply } from './support/fault-receiver.js';
import { acknowledged, depositEvent, describeOutcomes, FaultStack, sendEvents, type ApiProcess } from './support/fault-stack.js';
import { checkLedger, expectedEventIds, waitForFinalStatus } from './support/ledger.js';
import { ledgerResult, recordResult, seconds } from './support/results.js';

const EVENTS = 1_000;
const SEED = Number(process.env.FAULT_SEED ?? 20_251_127);
const ATTEMPT_TIMEOUT_MS = 1_000;
const RETRY_WINDOW_MS = 300_000;
/** After this many refusals of one event the receiver accepts it, so every delivery can end sent inside the window. */
const MAX_REFUSALS = 3;

/** The mix a copy is answered from; weights in percent. */
const MIX: Array<{ weight: number; name: string; reply: Reply }> = [
  { weight: 40, name: '200', reply: ok },
  { weight: 15, name: '500', reply: { kind: 'reply', status: 500 } },
  { weight: 12, name: '503+Retry-After', reply: { kind: 'reply', status: 503, headers: { 'Retry-After': '1' } } },
  { weight: 13, name: '429', reply: { kind: 'reply', status: 429 } },
  { weight: 10, name: 'hang', reply: { kind: 'hang', ms: 3 * ATTEMPT_TIMEOUT_MS } },
  { weight: 10, name: 'reset', reply: { kind: 'reset' } },
];

/**
 * Seeded and keyed by (event_id, copy number), not by arrival order: the same seed answers each
 * copy the same way however the worker schedules its attempts.
 */
function chaos(eventId: string, copyIndex: number): { name: string; reply: Reply } {
  if (copyIndex >= MAX_REFUSALS) return { name: '200', reply: ok };
  const roll = createHash('sha256').update(`${SEED}:${eventId}:${copyIndex}`).digest().readUInt32BE(0) % 100;
  let cumulative = 0;
  for (const entry of MIX) {
    cumulative += entry.weight;
    if (roll < cumulative) return entry;
  }
  return MIX[0]!;
}

/** Scenario 6: a hostile receiver answers 1,000 events from a seeded mix of errors, hangs and resets. */
describe('6. receiver chaos', () => {
  let stack: FaultStack;
  let api: ApiProcess;

  beforeAll(async () => {
    stack = await FaultStack.create('6-receiver-chaos');
    api = await stack.startApi();
    await stack.startWorker();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`${EVENTS} events all end sent within the retry window, with the recorded attempts equal to what the receiver saw`, async () => {
    const destination = await stack.createDestination(api, 'chaos', {
      timeout_ms: ATTEMPT_TIMEOUT_MS,
      retry_policy: { initial_interval_ms: 200, max_interval_ms: 1_000, max_age_ms: RETRY_WINDOW_MS },
    });
    const replies = new Map<string, number>();
    stack.receiver.setPolicy(({ eventId, copyIndex }) => {
      const { name, reply } = chaos(eventId, copyIndex);
      replies.set(name, (replies.get(name) ?? 0) + 1);
      return reply;
    });

    const startedAt = Date.now();
    const sent = await sendEvents(api, Array.from({ length: EVENTS }, (_, i) => depositEvent(`6-${i}`, i)), 16);
    const accepted = acknowledged(sent);
    expect(accepted, describeOutcomes(sent)).toHaveLength(EVENTS);

    const eventIds = expectedEventIds(accepted, [destination]);
    const doneAt = await waitForFinalStatus(stack.db, eventIds, 240_000);
    const report = await checkLedger({ db: stack.db, receiver: stack.receiver, accepted, destinations: [destination], attemptsMatchCopies: true });
    const { rows: late } = await stack.db.query(
      `SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1) AND (completed_at IS NULL OR completed_at - created_at > $2 * interval '1 millisecond')`,
      [eventIds, RETRY_WINDOW_MS],
    );
    const problems = late[0].n === 0 ? [] : [`${late[0].n} deliveries did not end within the ${seconds(RETRY_WINDOW_MS)} retry window`];
    const mix = [...replies.entries()].sort(([, a], [, b]) => b - a).map(([name, count]) => `${count} × ${name}`).join(', ');
    const recovery = doneAt ? `${seconds(doneAt - startedAt)} (first ingest → all sent; no repair)` : 'not drained';
    recordResult(ledgerResult('6', `receiver chaos, seed ${SEED}: ${report.copies} copies answered ${mix}`, report, recovery, problems));

    expect(problems).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.lost).toBe(0);
  });
});
