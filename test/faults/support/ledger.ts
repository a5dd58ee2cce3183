import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Copy, FaultReceiver } from './fault-receiver.js';
import { FAULT_ACCOUNT } from './fault-stack.js';

/** An event the service acknowledged with 202, with the deliveries it answered. */
export interface AcceptedEvent {
  id: string;
  deliveries: Array<{ event_id: string; destination_id: string }>;
}

export interface LedgerInput {
  /** A direct connection to the scenario's database (never through a fault proxy). */
  db: pg.Client;
  receiver: FaultReceiver;
  accepted: AcceptedEvent[];
  /** Every destination each accepted event must reach, with the path its URL points at. */
  destinations: Array<{ id: string; path: string }>;
  /** The receiver's attempt-by-attempt view must equal the recorded attempts (when no worker was killed mid-attempt). */
  attemptsMatchCopies?: boolean;
}

export interface LedgerReport {
  events: number;
  deliveries: number;
  /** Pairs of which the receiver accepted at least one copy. */
  delivered: number;
  lost: number;
  /** Copies that came after the receiver had accepted an earlier copy: the price of at-least-once. */
  extraCopies: number;
  copies: number;
  problems: string[];
}

const FINAL_STATUSES = ['sent', 'failed', 'cancelled'];
const MAX_PROBLEMS_LISTED = 25;

/**
 * The documented event_id, written out here rather than imported so the suite checks the product
 * against the README: the first 128 bits of SHA-256 over the account, the event's id and the destination id.
 */
export function expectedEventId(id: string, destinationId: string, accountId = FAULT_ACCOUNT): string {
  return createHash('sha256').update(`${accountId}\n${id}\n${destinationId}`).digest('hex').slice(0, 32);
}

/** A copy the receiver took in (answered 2xx, or was about to when the sender vanished): later copies were not asked for. */
function accepted(copy: Copy): boolean {
  return copy.acknowledged || copy.reply.kind === 'hold';
}

/**
 * For every accepted event and matched destination: the receiver saw the event_id at least once,
 * every copy carried the stored body byte for byte (and the event_id in body and webhook-id), the
 * database holds exactly one delivery with the expected final status, and its attempt count is
 * neither lost nor double-counted.
 */
export async function checkLedger(input: LedgerInput): Promise<LedgerReport> {
  const { db, receiver, destinations } = input;
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < MAX_PROBLEMS_LISTED) problems.push(text);
    else if (problems.length === MAX_PROBLEMS_LISTED) problems.push('… more problems not listed');
  };

  // The producer's last answer per id is the one it relies on.
  const events = new Map(input.accepted.map((event) => [event.id, event]));
  const pathOf = new Map(destinations.map((destination) => [destination.id, destination.path]));
  for (const event of events.values()) {
    const answered = event.deliveries.map((delivery) => delivery.destination_id).sort();
    const expected = [...pathOf.keys()].sort();
    if (answered.join() !== expected.join()) problem(`event ${event.id}: the 202 listed destinations ${answered.join(', ')}, expected ${expected.join(', ')}`);
    for (const delivery of event.deliveries) {
      const stable = expectedEventId(event.id, delivery.destination_id);
      if (delivery.event_id !== stable) problem(`event ${event.id}: event_id ${delivery.event_id} is not the documented hash ${stable}`);
    }
  }

  const rows: Array<{ idempotency_key: string; destination_id: string; event_id: string; status: string; body: string; attempt_count: number; attempt_rows: number }> =
    (
      await db.query(
        `SELECT e.idempotency_key, d.destination_id, d.event_id, d.status, d.body, d.attempt_count,
                (SELECT count(*) FROM delivery_attempts a WHERE a.event_id = d.event_id)::int AS attempt_rows
           FROM events e JOIN deliveries d ON d.source_event_id = e.id
          WHERE e.idempotency_key = ANY($1)`,
        [[...events.keys()]],
      )
    ).rows;
  const rowsByKey = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${row.idempotency_key}\n${row.destination_id}`;
    rowsByKey.set(key, [...(rowsByKey.get(key) ?? []), row]);
  }

  let deliveries = 0;
  let delivered = 0;
  let extraCopies = 0;
  let copiesSeen = 0;
  for (const event of events.values()) {
    for (const destinationId of pathOf.keys()) {
      deliveries += 1;
      const eventId = expectedEventId(event.id, destinationId);
      const stored = rowsByKey.get(`${event.id}\n${destinationId}`) ?? [];
      if (stored.length !== 1) problem(`event ${event.id} → destination ${destinationId}: ${stored.length} delivery rows, expected exactly 1`);
      const row = stored[0];
      if (row && row.event_id !== eventId) problem(`delivery ${row.event_id}: stored under an event_id that is not the documented hash ${eventId}`);
      if (row && row.status !== 'sent') problem(`delivery ${eventId}: final status ${row.status}, expected sent`);
      if (row && row.attempt_count !== row.attempt_rows) problem(`delivery ${eventId}: attempt_count ${row.attempt_count} but ${row.attempt_rows} attempt rows (double-counted or lost)`);

      const copies = receiver.copies(eventId);
      copiesSeen += copies.length;
      if (!copies.some(accepted)) {
        problem(`delivery ${eventId} (event ${event.id} → ${destinationId}): LOST, the receiver ${copies.length === 0 ? 'never saw it' : `refused all ${copies.length} copies it saw`}`);
      } else {
        delivered += 1;
      }
      if (row && input.attemptsMatchCopies && row.attempt_rows !== copies.length) {
        problem(`delivery ${eventId}: ${row.attempt_rows} attempts recorded, the receiver saw ${copies.length} (${copies.map((copy) => copy.reply.kind === 'reply' ? copy.reply.status : copy.reply.kind).join(', ')})`);
      }
      copies.forEach((copy, index) => {
        if (copies.slice(0, index).some(accepted)) extraCopies += 1;
        if (copy.path !== pathOf.get(destinationId)) problem(`delivery ${eventId}: copy ${index + 1} arrived at ${copy.path}, expected ${pathOf.get(destinationId)}`);
        if (copy.webhookId !== eventId) problem(`delivery ${eventId}: copy ${index + 1} has webhook-id ${copy.webhookId}`);
        if (row && copy.body !== row.body) problem(`delivery ${eventId}: copy ${index + 1} body differs from the stored body`);
        if (parseEventId(copy.body) !== eventId) problem(`delivery ${eventId}: copy ${index + 1} body carries event_id ${parseEventId(copy.body)}`);
      });
    }
  }
  return { events: events.size, deliveries, delivered, lost: deliveries - delivered, extraCopies, copies: copiesSeen, problems };
}

function parseEventId(body: string): unknown {
  try {
    return (JSON.parse(body) as { event_id?: unknown }).event_id;
  } catch {
    return '(body is not JSON)';
  }
}

/**
 * Waits until every delivery has a final status (sent, failed or cancelled) in the database and
 * returns when that happened; on timeout it returns undefined and the ledger says what is missing.
 */
export async function waitForFinalStatus(db: pg.Client, eventIds: string[], timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = ANY($1) AND status = ANY($2)`, [eventIds, FINAL_STATUSES]);
    if (rows[0].n === eventIds.length) return Date.now();
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

/** The event_id of every (accepted event, destination) pair, computed as documented rather than read from the service. */
export function expectedEventIds(accepted: AcceptedEvent[], destinations: Array<{ id: string }>): string[] {
  const ids = new Set(accepted.map((event) => event.id));
  return [...ids].flatMap((id) => destinations.map((destination) => expectedEventId(id, destination.id)));
}
