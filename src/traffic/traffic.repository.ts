import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TenantDatabase } from '../database/tenant-database.js';
import type { HealthOutcome } from '../../contract/traffic-gate.js';
import { CLOSED_HEALTH, type HealthState } from './traffic-rules.js';

interface HealthRow {
  breaker: HealthState['breaker'];
  failure_streak: number;
  failing_since_ms: string | null;
  opened_at_ms: string | null;
  open_until_ms: string | null;
  probe_event_id: string | null;
  probe_until_ms: string | null;
  last_success_at_ms: string | null;
  last_failure_at_ms: string | null;
  last_failure_reason: string | null;
  next_slot_at_ms: string | null;
  last_slot_at_ms: string | null;
}

/** What the one-statement admission decided; `decided: false` leaves it to the gate's transaction. */
export type PlainAdmission =
  | { decided: false }
  | { decided: true; admitted: true }
  | { decided: true; admitted: false; nowMs: number; earliestLeaseExpiryMs: number | null; queuePosition: number };

/** Times travel as epoch milliseconds (text, from numeric) so that no Date rounding creeps in. */
const HEALTH_COLUMNS = `breaker, failure_streak, last_failure_reason, probe_event_id,
  (extract(epoch FROM failing_since) * 1000)::text AS failing_since_ms,
  (extract(epoch FROM opened_at) * 1000)::text AS opened_at_ms,
  (extract(epoch FROM open_until) * 1000)::text AS open_until_ms,
  (extract(epoch FROM probe_until) * 1000)::text AS probe_until_ms,
  (extract(epoch FROM last_success_at) * 1000)::text AS last_success_at_ms,
  (extract(epoch FROM last_failure_at) * 1000)::text AS last_failure_at_ms,
  (extract(epoch FROM next_slot_at) * 1000)::text AS next_slot_at_ms,
  (extract(epoch FROM last_slot_at) * 1000)::text AS last_slot_at_ms`;

const ms = (value: string | null): number | null => (value === null ? null : Number(value));
const ts = (value: number | null): string | null => (value === null ? null : new Date(value).toISOString());

function toState(row: HealthRow): HealthState {
  return {
    breaker: row.breaker,
    failureStreak: row.failure_streak,
    failingSinceMs: ms(row.failing_since_ms),
    openedAtMs: ms(row.opened_at_ms),
    openUntilMs: ms(row.open_until_ms),
    probeEventId: row.probe_event_id,
    probeUntilMs: ms(row.probe_until_ms),
    lastSuccessAtMs: ms(row.last_success_at_ms),
    lastFailureAtMs: ms(row.last_failure_at_ms),
    lastFailureReason: row.last_failure_reason,
    nextSlotAtMs: ms(row.next_slot_at_ms),
    lastSlotAtMs: ms(row.last_slot_at_ms),
  };
}

/**
 * Every statement on `destination_health`, `destination_leases` and `destination_waiters`: the
 * traffic gate's state, shared by all worker processes. The gate's statements (the worker's, keyed
 * by destination) run as the table owner, serialised per destination by the lock on its health row:
 * the common cases in one statement (a function that locks the row, then reads with a fresh
 * snapshot), the rest in one transaction per decision. The API reads and resets a destination's
 * health through TenantDatabase like every other tenant table.
 */
@Injectable()
export class TrafficRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tenant: TenantDatabase,
  ) {}

  /**
   * The common admission in one statement (function `traffic_admit_plain`, migration
   * 1764703800000): for a destination without a rate limit whose breaker is closed, locks its health
   * row and admits — taking a lease when `maxInFlight` is set and there is room — or, with no room,
   * queues the delivery and returns what its hold is computed from. `decided: false` (the breaker is
   * not closed) changed nothing a decision depends on: the gate then decides in a transaction.
   */
  async admitPlain(target: { destinationId: string; accountId: string; eventId: string; workflowId: string }, maxInFlight: number | null, leaseMs: number): Promise<PlainAdmission> {
    const [row]: Array<{ decided: boolean; admitted: boolean | null; now_ms: string; earliest_expiry_ms: string | null; queue_position: number | null }> = await this.dataSource.query(
      `SELECT decided, admitted, now_ms, earliest_expiry_ms, queue_position
         FROM traffic_admit_plain($1::uuid, $2::text, $3::text, $4::text, $5::integer, $6::bigint)`,
      [target.destinationId, target.accountId, target.eventId, target.workflowId, maxInFlight, Math.round(leaseMs)],
    );
    if (!row.decided) return { decided: false };
    if (row.admitted) return { decided: true, admitted: true };
    return { decided: true, admitted: false, nowMs: Number(row.now_ms), earliestLeaseExpiryMs: ms(row.earliest_expiry_ms), queuePosition: row.queue_position ?? 0 };
  }

  /**
   * The common release in one statement (function `traffic_release_plain`, migrations 1764703800000
   * and 1764707400000): frees the attempt's lease and, when the outcome needs no decision — a success
   * or a refusal (not due to auto-disable) with the breaker closed, or a neutral outcome of an
   * attempt that was not the probe — stores it and, the breaker closed, wakes the next waiter the
   * freed slot is for. `settled: false`: the lease is gone (`leased` says whether there was one) and
   * the gate decides the rest in a transaction.
   */
  async releasePlain(
    destinationId: string,
    eventId: string,
    outcome: Exclude<HealthOutcome, { kind: 'retryable_failure' }>,
    autoDisableAfterMs: number | null,
  ): Promise<{ leased: boolean; settled: boolean; wake: string[] }> {
    const [row]: Array<{ leased: boolean; settled: boolean; wake: string[] | null }> = await this.dataSource.query(
      `SELECT leased, settled, wake FROM traffic_release_plain($1::uuid, $2::text, $3::text, $4::text, $5::bigint)`,
      [destinationId, eventId, outcome.kind, outcome.kind === 'permanent_failure' ? outcome.reason : null, autoDisableAfterMs === null ? null : Math.round(autoDisableAfterMs)],
    );
    return { leased: row.leased, settled: row.settled, wake: row.wake ?? [] };
  }

  /** Runs `work` in a transaction; the gate locks one destination's health row first thing in it. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The destination's health row, created on first use and locked until the transaction ends, with
   * the database's clock read after the lock was granted (every worker decides on the same clock).
   */
  async lockHealth(manager: EntityManager, destinationId: string, accountId: string): Promise<{ state: HealthState; nowMs: number }> {
    const [row]: Array<HealthRow & { now_ms: string }> = await manager.query(
      `INSERT INTO destination_health (destination_id, account_id) VALUES ($1, $2)
       ON CONFLICT (destination_id) DO UPDATE SET destination_id = EXCLUDED.destination_id
       RETURNING ${HEALTH_COLUMNS}, (extract(epoch FROM clock_timestamp()) * 1000)::text AS now_ms`,
      [destinationId, accountId],
    );
    return { state: toState(row), nowMs: Number(row.now_ms) };
  }

  /** Attempts of other deliveries in flight at the destination (expired leases dropped first), and the soonest expiry. */
  async countInFlight(manager: EntityManager, destinationId: string, eventId: string): Promise<{ inFlight: number; earliestExpiryMs: number | null }> {
    // One statement: the SELECT does not see the DELETE's effect, so it skips expired leases itself.
    const [row]: Array<{ in_flight: number; earliest_ms: string | null }> = await manager.query(
      `WITH expired AS (DELETE FROM destination_leases WHERE destination_id = $1 AND expires_at <= clock_timestamp())
       SELECT count(*)::int AS in_flight, (extract(epoch FROM min(expires_at)) * 1000)::text AS earliest_ms
         FROM destination_leases WHERE destination_id = $1 AND event_id <> $2 AND expires_at > clock_timestamp()`,
      [destinationId, eventId],
    );
    return { inFlight: row.in_flight, earliestExpiryMs: ms(row.earliest_ms) };
  }

  /** Stores the decided state, and the lease or the place in the queue that went with it, in one statement. */
  async storeAdmission(
    manager: EntityManager,
    target: { destinationId: string; accountId: string; eventId: string; workflowId: string },
    state: HealthState,
    effects: { leaseUntilMs: number | null; enqueue: boolean },
  ): Promise<void> {
    await manager.query(
      `WITH health AS (
         UPDATE destination_health SET breaker = $4, probe_event_id = $5, probe_until = $6, next_slot_at = $7, last_slot_at = $11
          WHERE destination_id = $1
       ), lease AS (
         INSERT INTO destination_leases (destination_id, event_id, account_id, expires_at)
         SELECT $1, $3, $2, $8 WHERE $8::timestamptz IS NOT NULL
         ON CONFLICT (destination_id, event_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
       ), queued AS (
         -- A delivery queued again after a wake keeps its place (its first since) and may be woken again.
         INSERT INTO destination_waiters (destination_id, workflow_id, account_id)
         SELECT $1, $9, $2 WHERE $10
         ON CONFLICT (destination_id, workflow_id) DO UPDATE SET woken_at = NULL
       )
       DELETE FROM destination_waiters WHERE destination_id = $1 AND workflow_id = $9 AND NOT $10`,
      [
        target.destinationId,
        target.accountId,
        target.eventId,
        state.breaker,
        state.probeEventId,
        ts(state.probeUntilMs),
        ts(state.nextSlotAtMs),
        ts(effects.leaseUntilMs),
        target.workflowId,
        effects.enqueue,
        ts(state.lastSlotAtMs),
      ],
    );
  }

  /**
   * How many deliveries are queued for the destination ahead of this workflow (all of them when it
   * is not queued yet): the first few of a queue wait for exact moments, the rest for a signal.
   */
  async queuePosition(manager: EntityManager, destinationId: string, workflowId: string): Promise<number> {
    const [row]: Array<{ ahead: number }> = await manager.query(
      `SELECT count(*)::int AS ahead FROM destination_waiters w
        WHERE w.destination_id = $1 AND w.workflow_id <> $2
          AND w.since <= COALESCE((SELECT since FROM destination_waiters WHERE destination_id = $1 AND workflow_id = $2), 'infinity')`,
      [destinationId, workflowId],
    );
    return row.ahead;
  }

  /** Ends the attempt's lease; true when it held one. */
  async dropLease(manager: EntityManager, destinationId: string, eventId: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await manager.query(
      `DELETE FROM destination_leases WHERE destination_id = $1 AND event_id = $2 RETURNING 1`,
      [destinationId, eventId],
    );
    return affected > 0;
  }

  /**
   * Stores the health after an attempt and picks the `wakeCount` longest-waiting deliveries not
   * woken in the last 30 s. A woken delivery keeps its place until it is admitted (its row goes then)
   * or queues again; a row woken long ago and never back is a delivery that ended, and is dropped.
   */
  async storeRelease(manager: EntityManager, destinationId: string, state: HealthState, wakeCount: number): Promise<string[]> {
    const [woken]: [Array<{ workflow_id: string }>, number] = await manager.query(
      `WITH health AS (
         UPDATE destination_health SET
           breaker = $2, failure_streak = $3, failing_since = $4, opened_at = $5, open_until = $6,
           probe_event_id = $7, probe_until = $8, last_success_at = $9, last_failure_at = $10, last_failure_reason = $11
          WHERE destination_id = $1
       ), ended AS (
         DELETE FROM destination_waiters WHERE destination_id = $1 AND woken_at < now() - interval '15 minutes'
       )
       UPDATE destination_waiters w SET woken_at = now()
        WHERE w.destination_id = $1 AND w.workflow_id IN (
          SELECT workflow_id FROM destination_waiters
           WHERE destination_id = $1
             AND (woken_at IS NULL OR woken_at BETWEEN now() - interval '15 minutes' AND now() - interval '30 seconds')
           ORDER BY since, workflow_id LIMIT $12)
       RETURNING w.workflow_id`,
      [
        destinationId,
        state.breaker,
        state.failureStreak,
        ts(state.failingSinceMs),
        ts(state.openedAtMs),
        ts(state.openUntilMs),
        state.probeEventId,
        ts(state.probeUntilMs),
        ts(state.lastSuccessAtMs),
        ts(state.lastFailureAtMs),
        state.lastFailureReason,
        wakeCount,
      ],
    );
    return woken.map((row) => row.workflow_id);
  }

  /** The account's destinations' health, keyed by destination id; a destination never attempted has none (closed). */
  findHealth(accountId: string, destinationIds: string[]): Promise<Map<string, HealthState>> {
    return this.tenant.run(accountId, async (manager) => {
      const rows: Array<HealthRow & { destination_id: string }> = await manager.query(
        `SELECT destination_id, ${HEALTH_COLUMNS} FROM destination_health WHERE account_id = $1 AND destination_id = ANY($2)`,
        [accountId, destinationIds],
      );
      return new Map(rows.map((row) => [row.destination_id, toState(row)]));
    });
  }

  /**
   * Back to a clean slate when a destination is enabled again: closed breaker, no streak, no
   * failing time (the next failures count from zero). The rate limiter's next slot stays.
   */
  async reset(accountId: string, destinationId: string, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE destination_health SET breaker = 'closed', failure_streak = 0, failing_since = NULL, opened_at = NULL,
              open_until = NULL, probe_event_id = NULL, probe_until = NULL
        WHERE account_id = $1 AND destination_id = $2`,
      [accountId, destinationId],
    );
  }
}

export { CLOSED_HEALTH };
