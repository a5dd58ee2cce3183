import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AttemptKey, AttemptRecord, AttemptStore, DeliveryTarget, FinishedDelivery } from '../../contract/attempt-store.js';
import type { WebhookMethod } from '../../contract/webhook-connector.js';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { TenantDatabase } from '../database/tenant-database.js';
import {
  DISPATCH_DESTINATION_COLUMNS,
  toDispatchDestination,
  type DispatchDestination,
  type DispatchDestinationRow,
} from '../destinations/destination.repository.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import type { DeliveryCursor } from './delivery-cursor.js';
import { allowedPredecessors, OPEN_DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status.js';
import { Delivery, type FilterDecision } from './delivery.entity.js';
import { OUTBOX_CHANNEL, OutboxSignal } from './outbox-signal.js';

/** A delivery as starting its workflow needs it: which event, where to, and the destination's plan. */
export interface DeliveryToDispatch {
  eventId: string;
  accountId: string;
  canonical: CanonicalEvent;
  targetEvent: string;
  destination: DispatchDestination;
}

/**
 * How many of one destination's deliveries may be handed to Temporal before their first attempt:
 * `perInFlightSlot` × its max_in_flight, or × its rate limit per second when that is more, and never
 * fewer than `minimum`. Defaults are the configured ones, for destinations and accounts without.
 */
export interface DispatchWindowRule {
  perInFlightSlot: number;
  defaultMaxInFlight: number;
  defaultRatePerSecond: number | null;
  minimum: number;
}

/** A delivery of an ingested event, as a repeated ingest answers and re-dispatches it. */
export interface StoredDelivery extends DeliveryToDispatch {
  status: DeliveryStatus;
  dispatched: boolean;
}

export interface NewEvent {
  idempotencyKey: string;
  /** Hash of the request that first used the key, to refuse its reuse for a different event. */
  fingerprint: string;
  canonical: CanonicalEvent;
  uid: string;
  occurredAtMs: number;
  data: Record<string, unknown>;
}

export interface NewDelivery {
  eventId: string;
  destinationId: string;
  targetEvent: string;
  /** The serialised webhook body, sent unchanged on every attempt. */
  body: string;
  workflowId: string;
  /** `skipped` when the destination is disabled: kept and listable, never sent unless retried. */
  status: Extract<DeliveryStatus, 'pending' | 'skipped'>;
  /** Why a skipped delivery was skipped. */
  reason: string | null;
  /** The destination's routing filter as applied; null when it has none. */
  filterDecision: FilterDecision | null;
}

/** A test event's delivery: one destination, a sample body, always `pending`. */
export interface NewTestDelivery {
  idempotencyKey: string;
  eventId: string;
  destinationId: string;
  canonical: CanonicalEvent;
  targetEvent: string;
  uid: string;
  occurredAtMs: number;
  data: Record<string, unknown>;
  body: string;
  workflowId: string;
}

export interface DeliveryFilter {
  destinationId?: string;
  status?: DeliveryStatus;
  canonical?: CanonicalEvent;
  createdAfter?: string;
  createdBefore?: string;
}

/** findRecoverable's filter, $1–$5: account, destination (or null), statuses, since, until (or null). */
const RECOVERABLE_CONDITIONS = `account_id = $1 AND ($2::uuid IS NULL OR destination_id = $2) AND status = ANY($3) AND NOT test
  AND NOT COALESCE(filter_decision @> '{"matched": false}', false)
  AND created_at >= $4 AND ($5::timestamptz IS NULL OR created_at < $5)`;

/** What a recovery retries: its account's deliveries in these statuses, created in [since, until). */
export interface RecoverableFilter {
  /** null: every destination of the account. */
  destinationId: string | null;
  statuses: readonly DeliveryStatus[];
  since: string;
  until: string | null;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  /** Where the next page starts, or undefined on the last page. */
  next: DeliveryCursor | undefined;
}

/** The columns a delivery's status read returns. */
export type DeliveryState = Pick<Delivery, 'eventId' | 'status' | 'canonical' | 'targetEvent' | 'workflowId'>;

/**
 * Every statement on `events`, `deliveries` and `delivery_attempts`, the tables of one ingested
 * event and what became of it. Rows are mapped to camelCase here and nowhere else. It is also the
 * send activity's store: every status change is conditional on the delivery's current status being
 * an allowed predecessor (contract/delivery-status.ts), checked in the statement itself so that a
 * concurrent writer cannot slip between a read and the write.
 *
 * The API's statements take the account first, filter by it themselves and run through
 * TenantDatabase, whose row-level security hides every other account's rows should a filter be
 * missing: another account's delivery is not found, exactly like one that does not exist. The
 * worker's statements (loadTarget, recordAttempt, finish) and the outbox dispatcher's
 * (claimOutbox, markDispatched, releaseClaims) are system work keyed by event_id across accounts and run as the table owner, as
 * does the retention purge (purgeExpiredDeliveries, purgeExpiredEvents).
 */
@Injectable()
export class DeliveryRepository implements AttemptStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tenant: TenantDatabase,
    private readonly outbox: OutboxSignal,
  ) {}

  /**
   * Tells every dispatcher's LISTEN connection that the outbox has new rows. Its own transaction,
   * never ingest's: PostgreSQL serialises the commits of all transactions that NOTIFY (a database-wide
   * lock held through the commit's WAL flush), which would put every ingest of every API process in
   * one line. OutboxNotifier sends it after commits, one at a time per process.
   */
  async notifyDispatchers(): Promise<void> {
    await this.dataSource.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  }

  /**
   * Stores the event and all its deliveries in one statement, so atomically and in one round trip
   * (data-modifying CTEs run to completion whether or not the final SELECT reads them). The
   * deliveries are inserted only when the event was: an idempotency key the account already used
   * inserts nothing and returns false. Idempotency keys are the account's own: another account's
   * `evt-42` is another event. Runs in ingest's tenant transaction (`manager`, of
   * TenantDatabase.run for `accountId`), after the read of the event's destinations.
   */
  async insertEventWithDeliveries(accountId: string, event: NewEvent, deliveries: NewDelivery[], manager: EntityManager): Promise<boolean> {
    const stored: Array<{ id: string }> = await manager.query(
      `WITH event AS (
         INSERT INTO events (account_id, idempotency_key, fingerprint, canonical, uid, occurred_at_ms, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account_id, idempotency_key) DO NOTHING
         RETURNING id
       ), stored_deliveries AS (
         INSERT INTO deliveries (account_id, event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id, last_error, completed_at, filter_decision)
         SELECT $1, t.event_id, event.id, t.destination_id, $4, t.target_event, t.body, t.status, t.workflow_id, t.reason,
                CASE WHEN t.status = 'skipped' THEN now() END, t.filter_decision
           FROM event, unnest($8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::jsonb[])
             AS t(event_id, destination_id, target_event, body, workflow_id, status, reason, filter_decision)
       )
       SELECT event.id FROM event`,
      [
        accountId,
        event.idempotencyKey,
        event.fingerprint,
        event.canonical,
        event.uid,
        event.occurredAtMs,
        event.data,
        deliveries.map((delivery) => delivery.eventId),
        deliveries.map((delivery) => delivery.destinationId),
        deliveries.map((delivery) => delivery.targetEvent),
        deliveries.map((delivery) => delivery.body),
        deliveries.map((delivery) => delivery.workflowId),
        deliveries.map((delivery) => delivery.status),
        deliveries.map((delivery) => delivery.reason),
        deliveries.map((delivery) => (delivery.filterDecision === null ? null : JSON.stringify(delivery.filterDecision))),
      ],
    );
    return stored.length > 0;
  }

  /**
   * Stores a test event and its one delivery (`test`, `pending`) in one statement. The event row
   * exists because every delivery has one; its idempotency key is generated (`test:<uuid>`), so it
   * never meets a producer's. Runs as the account, under row-level security.
   */
  async insertTestDelivery(accountId: string, delivery: NewTestDelivery): Promise<void> {
    await this.tenant.run(accountId, (manager) =>
      manager.query(
        `WITH event AS (
           INSERT INTO events (account_id, idempotency_key, fingerprint, canonical, uid, occurred_at_ms, data)
           VALUES ($1, $2, 'test', $3, $4, $5, $6)
           RETURNING id
         )
         , delivery AS (
           INSERT INTO deliveries (account_id, event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id, test)
           SELECT $1, $7, event.id, $8, $3, $9, $10, 'pending', $11, true FROM event
         )
         SELECT 1`,
        [
          accountId,
          delivery.idempotencyKey,
          delivery.canonical,
          delivery.uid,
          delivery.occurredAtMs,
          delivery.data,
          delivery.eventId,
          delivery.destinationId,
          delivery.targetEvent,
          delivery.body,
          delivery.workflowId,
        ],
      ),
    );
  }

  /**
   * The event the account stored under an idempotency key, with the deliveries made for it, oldest
   * destination first. Runs in ingest's tenant transaction (`manager`) when a repeated key stored nothing.
   */
  async findEvent(accountId: string, idempotencyKey: string, manager: EntityManager): Promise<{ fingerprint: string; deliveries: StoredDelivery[] } | undefined> {
    const [event]: Array<{ id: string; fingerprint: string }> = await manager.query(
      `SELECT id, fingerprint FROM events WHERE account_id = $1 AND idempotency_key = $2`,
      [accountId, idempotencyKey],
    );
    if (!event) return undefined;
    const rows: Array<DeliveryToDispatchRow & { status: DeliveryStatus; dispatched: boolean }> = await manager.query(
      `SELECT d.event_id, d.account_id, d.canonical, d.target_event, d.status, (d.dispatched_at IS NOT NULL OR d.status <> 'pending') AS dispatched, ${DISPATCH_DESTINATION_COLUMNS}
         FROM deliveries d JOIN destinations t ON t.id = d.destination_id AND t.account_id = d.account_id
        WHERE d.account_id = $1 AND d.source_event_id = $2
        ORDER BY t.created_at, t.id`,
      [accountId, event.id],
    );
    return {
      fingerprint: event.fingerprint,
      deliveries: rows.map((row) => ({ ...toDeliveryToDispatch(row), status: row.status, dispatched: row.dispatched })),
    };
  }

  /**
   * Claims up to `limit` deliveries waiting in the outbox (stored `pending`, workflow not started),
   * leasing each for `leaseSeconds`, and returns what their starts need. Cross-tenant on purpose:
   * the dispatcher is system work that starts every account's deliveries, so it runs as the table
   * owner; each row carries its account into the dispatch.
   *
   * One statement, safe to run from any number of dispatchers at once (`FOR UPDATE SKIP LOCKED`
   * splits the rows between them; the lease keeps a claimed row from a second dispatcher until its
   * start is confirmed or the lease runs out). Fair between destinations: it takes each waiting
   * destination's oldest rows and interleaves them, first of every destination before second of
   * any, so one destination's backlog never delays another's new deliveries. And bounded per
   * destination by its dispatch window: `room` is the window less the deliveries already handed to
   * Temporal that have not made their first attempt (in flight, or held by the traffic gate).
   * Deliveries beyond it wait here, in PostgreSQL, costing Temporal nothing, until the destination
   * takes them. The window shrinks to what the gate would admit: none while the destination is
   * paused or its account disabled (resuming or enabling is seen at the next poll), one while its
   * breaker is not closed (the probe).
   * Reads destinations, accounts and destination_health (owned by their repositories) only to size
   * the window.
   */
  async claimOutbox(limit: number, leaseSeconds: number, window: DispatchWindowRule): Promise<DeliveryToDispatch[]> {
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [rows]: [DeliveryToDispatchRow[], number] = await this.dataSource.query(
      `WITH RECURSIVE waiting(destination_id) AS (
         (SELECT destination_id FROM deliveries WHERE dispatched_at IS NULL AND status = 'pending' ORDER BY destination_id LIMIT 1)
         UNION ALL
         SELECT (SELECT d.destination_id FROM deliveries d
                  WHERE d.dispatched_at IS NULL AND d.status = 'pending' AND d.destination_id > w.destination_id
                  ORDER BY d.destination_id LIMIT 1)
           FROM waiting w WHERE w.destination_id IS NOT NULL
       ), windows AS (
         SELECT t.id,
                CASE
                  -- Paused, or its account disabled: everything would only be held, so nothing is started.
                  WHEN t.paused_at IS NOT NULL OR NOT a.enabled THEN 0
                  -- Breaker not closed: one, so that a probe can always be made, and no more.
                  WHEN h.breaker IS DISTINCT FROM 'closed' AND h.breaker IS NOT NULL THEN 1
                  -- Failing (a retryable failure since its last success): its cap alone, no deliveries
                  -- waiting ahead in Temporal for slots that its failing attempts are not going to free.
                  WHEN COALESCE(h.failure_streak, 0) > 0 THEN GREATEST(
                    COALESCE(t.max_in_flight, a.default_max_in_flight, $4::int),
                    CEIL(COALESCE(t.rate_limit_per_second, a.default_rate_limit_per_second, $5::float8))::int,
                    1
                  )
                  ELSE GREATEST(
                    $3::int * COALESCE(t.max_in_flight, a.default_max_in_flight, $4::int),
                    CEIL($3::int * COALESCE(t.rate_limit_per_second, a.default_rate_limit_per_second, $5::float8))::int,
                    $6::int
                  )
                END - (SELECT count(*) FROM deliveries o
                      WHERE o.destination_id = t.id AND o.status = 'pending' AND o.attempt_count = 0
                        AND (o.dispatched_at IS NOT NULL OR o.dispatch_claimed_until IS NOT NULL))::int AS room
           FROM waiting w JOIN destinations t ON t.id = w.destination_id JOIN accounts a ON a.id = t.account_id
           LEFT JOIN destination_health h ON h.destination_id = t.id
       ), picked AS (
         SELECT p.event_id, p.created_at, row_number() OVER (PARTITION BY p.destination_id ORDER BY p.created_at, p.event_id) AS rank
           FROM windows w CROSS JOIN LATERAL (
             SELECT d.event_id, d.destination_id, d.created_at FROM deliveries d
              WHERE d.destination_id = w.id AND d.dispatched_at IS NULL AND d.status = 'pending'
                AND (d.dispatch_claimed_until IS NULL OR d.dispatch_claimed_until < now())
              ORDER BY d.created_at
              LIMIT LEAST(GREATEST(w.room, 0), $1)
              FOR UPDATE OF d SKIP LOCKED
           ) p
       ), chosen AS (
         SELECT event_id FROM picked ORDER BY rank, created_at LIMIT $1
       )
       UPDATE deliveries d SET dispatch_claimed_until = now() + make_interval(secs => $2)
         FROM chosen c, destinations t
        WHERE d.event_id = c.event_id AND t.id = d.destination_id
       RETURNING d.event_id, d.account_id, d.canonical, d.target_event, d.created_at, ${DISPATCH_DESTINATION_COLUMNS}`,
      [limit, leaseSeconds, window.perInFlightSlot, window.defaultMaxInFlight, window.defaultRatePerSecond, window.minimum],
    );
    // RETURNING has no order of its own: oldest first, as they were chosen.
    rows.sort((a, b) => a.created_at!.getTime() - b.created_at!.getTime());
    return rows.map(toDeliveryToDispatch);
  }

  /**
   * Records that these deliveries' workflows were started, ending their claim (first mark wins).
   * Cross-tenant on purpose: the dispatcher marks what it started for every account in one
   * statement; event_ids come only from rows already stored.
   */
  async markDispatched(eventIds: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET dispatched_at = COALESCE(dispatched_at, now()), dispatch_claimed_until = NULL WHERE event_id = ANY($1)`,
      [eventIds],
    );
  }

  /** Gives back claims whose start failed (Temporal down): the next claim takes them at once. */
  async releaseClaims(eventIds: string[]): Promise<void> {
    await this.dataSource.query(`UPDATE deliveries SET dispatch_claimed_until = NULL WHERE event_id = ANY($1) AND dispatched_at IS NULL`, [eventIds]);
  }

  async findState(accountId: string, eventId: string): Promise<DeliveryState | undefined> {
    const [row]: Array<{ event_id: string; status: DeliveryStatus; canonical: CanonicalEvent; target_event: string; workflow_id: string }> =
      await this.tenant.run(accountId, (manager) =>
        manager.query(`SELECT event_id, status, canonical, target_event, workflow_id FROM deliveries WHERE account_id = $1 AND event_id = $2`, [accountId, eventId]),
      );
    return row && { eventId: row.event_id, status: row.status, canonical: row.canonical, targetEvent: row.target_event, workflowId: row.workflow_id };
  }

  /**
   * Moves the account's failed, cancelled or skipped delivery (`from`; a forced resend adds `sent`)
   * back to `pending` for a new run; returns the status it had, or undefined when it could not be
   * retried. The conditional update lets exactly one of several concurrent retries through.
   */
  async claimForRetry(accountId: string, eventId: string, from: readonly DeliveryStatus[] = allowedPredecessors('pending')): Promise<DeliveryStatus | undefined> {
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [rows]: [Array<{ previous: DeliveryStatus }>, number] = await this.tenant.run(accountId, (manager) =>
      manager.query(
        // dispatched_at: the retry's caller starts the run itself, so the outbox never takes the
        // row too (a skipped delivery was never dispatched).
        `UPDATE deliveries d SET status = 'pending', completed_at = NULL, updated_at = now(), dispatched_at = COALESCE(d.dispatched_at, now())
           FROM deliveries prior
          WHERE d.account_id = $1 AND d.event_id = $2 AND prior.event_id = d.event_id AND d.status = ANY($3)
         RETURNING prior.status AS previous`,
        [accountId, eventId, from],
      ),
    );
    return rows[0]?.previous;
  }

  /**
   * Undoes a claim whose run could not be started: back to the status it had, unless something moved
   * it on. Not a transition of its own: it takes back the claim's `pending`, so only a `pending` row changes.
   */
  async releaseRetryClaim(accountId: string, eventId: string, previous: DeliveryStatus): Promise<void> {
    await this.tenant.run(accountId, (manager) =>
      manager.query(`UPDATE deliveries SET status = $3 WHERE account_id = $1 AND event_id = $2 AND status = 'pending'`, [accountId, eventId, previous]),
    );
  }

  /** The account's delivery with its destination's plan, or undefined when it or its destination no longer exists. */
  async findToDispatch(accountId: string, eventId: string): Promise<DeliveryToDispatch | undefined> {
    const [row]: DeliveryToDispatchRow[] = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `SELECT d.event_id, d.account_id, d.canonical, d.target_event, ${DISPATCH_DESTINATION_COLUMNS}
           FROM deliveries d JOIN destinations t ON t.id = d.destination_id AND t.account_id = d.account_id
          WHERE d.account_id = $1 AND d.event_id = $2 AND t.deleted_at IS NULL`,
        [accountId, eventId],
      ),
    );
    return row && toDeliveryToDispatch(row);
  }

  /**
   * The account's deliveries, newest first, one keyset page of `limit` after `cursor`. created_at is
   * read as PostgreSQL's own text for the cursor: a JavaScript Date would drop the microseconds and repeat rows.
   */
  page(accountId: string, filter: DeliveryFilter, cursor: DeliveryCursor | undefined, limit: number): Promise<DeliveryPage> {
    return this.tenant.run(accountId, async (manager) => {
      const builder = manager
        .createQueryBuilder(Delivery, 'd')
        .addSelect('d.created_at::text', 'cursor_created_at')
        .where('d.account_id = :accountId', { accountId })
        .orderBy('d.created_at', 'DESC')
        .addOrderBy('d.event_id', 'DESC')
        .limit(limit + 1);
      if (filter.destinationId) builder.andWhere('d.destination_id = :destinationId', { destinationId: filter.destinationId });
      if (filter.status) builder.andWhere('d.status = :status', { status: filter.status });
      if (filter.canonical) builder.andWhere('d.canonical = :canonical', { canonical: filter.canonical });
      if (filter.createdAfter) builder.andWhere('d.created_at >= :after', { after: filter.createdAfter });
      if (filter.createdBefore) builder.andWhere('d.created_at < :before', { before: filter.createdBefore });
      if (cursor) {
        builder.andWhere('(d.created_at, d.event_id) < (:cursorCreatedAt::timestamptz, :cursorEventId)', {
          cursorCreatedAt: cursor.createdAt,
          cursorEventId: cursor.eventId,
        });
      }
      const { entities, raw } = await builder.getRawAndEntities<{ cursor_created_at: string }>();
      const deliveries = entities.slice(0, limit);
      const last = deliveries.at(-1);
      const lastRaw = raw[deliveries.length - 1];
      return {
        deliveries,
        next: entities.length > limit && last && lastRaw ? { createdAt: lastRaw.cursor_created_at, eventId: last.eventId } : undefined,
      };
    });
  }

  /** The delivery and its destination as one attempt sends it, secrets included: only the worker calls this. */
  async loadTarget(eventId: string, key: AttemptKey): Promise<DeliveryTarget | undefined> {
    const [row]: TargetRow[] = await this.dataSource.query(
      `SELECT d.event_id, d.body, d.status, d.test, d.account_id, a.enabled AS account_enabled,
              a.default_rate_limit_per_second, a.default_max_in_flight, a.auto_disable_after_ms,
              t.id AS destination_id, t.url, t.method, t.headers, t.signing_secret, t.enabled, t.deleted_at,
              t.paused_at, t.rate_limit_per_second, t.max_in_flight,
              t.format, t.url_template, t.template_secrets, t.success_body, e.idempotency_key AS source_event_id,
              CASE WHEN t.previous_signing_secret_expires_at > now() THEN t.previous_signing_secret END AS previous_signing_secret,
              r.event_id IS NOT NULL AS attempt_recorded, r.status_code AS recorded_status_code, r.error AS recorded_error,
              (extract(epoch FROM r.started_at) * 1000 + r.duration_ms)::text AS recorded_ended_at_ms
         FROM deliveries d JOIN destinations t ON t.id = d.destination_id JOIN accounts a ON a.id = d.account_id
         JOIN events e ON e.id = d.source_event_id
         -- The attempt's own record, on the unique key recordAttempt writes it under.
         LEFT JOIN delivery_attempts r ON r.event_id = d.event_id AND r.workflow_run_id = $2 AND r.attempt = $3
        WHERE d.event_id = $1`,
      [eventId, key.workflowRunId, key.attempt],
    );
    if (!row) return undefined;
    return {
      eventId: row.event_id,
      accountId: row.account_id,
      accountEnabled: row.account_enabled,
      accountTraffic: {
        ratePerSecond: row.default_rate_limit_per_second,
        maxInFlight: row.default_max_in_flight,
        // bigint arrives as text.
        autoDisableAfterMs: row.auto_disable_after_ms === null ? null : Number(row.auto_disable_after_ms),
      },
      body: row.body,
      sourceEventId: row.source_event_id,
      status: row.status,
      test: row.test,
      recordedAttempt: row.attempt_recorded
        ? { statusCode: row.recorded_status_code, error: row.recorded_error, endedAtMs: Math.round(Number(row.recorded_ended_at_ms)) }
        : null,
      destination: {
        id: row.destination_id,
        format: row.format,
        url: row.url,
        urlTemplate: row.url_template,
        templateSecrets: row.template_secrets,
        successBody: row.success_body,
        method: row.method,
        headers: row.headers,
        signingSecret: row.signing_secret,
        previousSigningSecret: row.previous_signing_secret,
        enabled: row.enabled,
        deleted: row.deleted_at !== null,
        paused: row.paused_at !== null,
        ratePerSecond: row.rate_limit_per_second,
        maxInFlight: row.max_in_flight,
      },
    };
  }

  /**
   * Records an attempt in one statement. A repeated record of the same attempt (the activity
   * retried after the database blinked) inserts nothing, so nothing is counted twice. While the
   * delivery is open the attempt moves it on (`moved`); once it is finished — sent, failed or
   * cancelled meanwhile — the attempt is still kept and counted, and the delivery's status and
   * last outcome stay as they are (`counted`). The two UPDATEs exclude each other, so the row is
   * written once. Resolves true when the delivery took the record.
   */
  async recordAttempt(record: AttemptRecord): Promise<boolean> {
    const from = record.status === null ? OPEN_DELIVERY_STATUSES : allowedPredecessors(record.status);
    const [row]: Array<{ took: boolean }> = await this.dataSource.query(
      `WITH inserted AS (
         INSERT INTO delivery_attempts
           (account_id, event_id, workflow_run_id, attempt, started_at, duration_ms, status_code, error, response_body, request_line)
         SELECT d.account_id, $1, $2, $3, $4, $5, $6, $7, $8, $11 FROM deliveries d WHERE d.event_id = $1
         ON CONFLICT (event_id, workflow_run_id, attempt) DO NOTHING
         RETURNING 1
       ), moved AS (
         UPDATE deliveries SET
           attempt_count = attempt_count + (SELECT count(*) FROM inserted),
           status = COALESCE($9::text, status),
           last_status_code = $6,
           last_error = $7,
           completed_at = CASE WHEN $9::text = 'sent' THEN now() ELSE completed_at END,
           updated_at = now()
         WHERE event_id = $1 AND status = ANY($10)
         RETURNING 1
       ), counted AS (
         UPDATE deliveries SET attempt_count = attempt_count + (SELECT count(*) FROM inserted)
         WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM moved) AND EXISTS (SELECT 1 FROM inserted)
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM moved) AS took`,
      [
        record.eventId,
        record.workflowRunId,
        record.attempt,
        record.startedAt,
        record.durationMs,
        record.statusCode,
        record.error,
        record.responseBody,
        record.status,
        from,
        record.requestLine ?? null,
      ],
    );
    // A first attempt ended: its delivery leaves its destination's dispatch window, so this
    // process's outbox dispatcher may start the next one now rather than at its next poll.
    if (record.attempt === 1) this.outbox.wake();
    return row?.took === true;
  }

  /**
   * The run's final status, decided by the workflow: retries exhausted, a permanent failure, or a
   * cancellation. Applies only to an open delivery; resolves false when nothing changed.
   */
  async finish(eventId: string, status: Extract<DeliveryStatus, 'failed' | 'cancelled' | 'skipped'>, reason: string): Promise<FinishedDelivery | undefined> {
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [rows]: [Array<{ account_id: string; destination_id: string; target_event: string }>, number] = await this.dataSource.query(
      `UPDATE deliveries SET status = $2, last_error = CASE WHEN $2 = 'skipped' THEN $3 ELSE COALESCE(last_error, $3) END,
              completed_at = now(), updated_at = now()
        WHERE event_id = $1 AND status = ANY($4)
       RETURNING account_id, destination_id, target_event`,
      [eventId, status, reason, allowedPredecessors(status)],
    );
    const [row] = rows;
    // A held delivery ending (cancelled, skipped) frees room in its destination's dispatch window too.
    if (row) this.outbox.wake();
    return row && { accountId: row.account_id, destinationId: row.destination_id, targetEvent: row.target_event };
  }

  /**
   * One keyset page of the account's deliveries a recovery retries, oldest first, after `after`:
   * in `statuses`, created in [since, until), of one destination or all (deleted ones included, so
   * they are counted). Test deliveries, and deliveries the destination's routing filter kept out
   * (skipped by design, not by accident), are never recovered. created_at is read as PostgreSQL's text
   * for the keyset: a JavaScript Date would drop the microseconds and repeat rows.
   */
  async findRecoverable(accountId: string, filter: RecoverableFilter, after: DeliveryCursor | undefined, limit: number): Promise<DeliveryCursor[]> {
    const rows: Array<{ event_id: string; created_at: string }> = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `SELECT event_id, created_at::text AS created_at FROM deliveries
          WHERE ${RECOVERABLE_CONDITIONS}
            AND ($6::timestamptz IS NULL OR (created_at, event_id) > ($6::timestamptz, $7::text))
          ORDER BY created_at, event_id
          LIMIT $8`,
        [accountId, filter.destinationId, filter.statuses, filter.since, filter.until, after?.createdAt ?? null, after?.eventId ?? null, limit],
      ),
    );
    return rows.map((row) => ({ eventId: row.event_id, createdAt: row.created_at }));
  }

  /** How many deliveries findRecoverable would find from the start: a recovery's progress bar. */
  async countRecoverable(accountId: string, filter: RecoverableFilter): Promise<number> {
    const [row]: Array<{ count: number }> = await this.tenant.run(accountId, (manager) =>
      manager.query(`SELECT count(*)::int AS count FROM deliveries WHERE ${RECOVERABLE_CONDITIONS}`, [
        accountId,
        filter.destinationId,
        filter.statuses,
        filter.since,
        filter.until,
      ]),
    );
    return row?.count ?? 0;
  }

  /**
   * Retention: deletes up to `limit` finished deliveries (with their attempts, in the same statement)
   * created longer ago than their account keeps them (`retention_days`, else `defaultDays`); returns
   * how many. Rows are locked as they are chosen and rows locked by anyone else are skipped, so
   * the purge never waits on, nor holds up, a retry or an attempt, and locks only its batch; an open
   * delivery (`pending`, `retrying`) is never chosen, and a retry's claim cannot reopen one between
   * the choice and the delete. Cross-tenant on purpose: system work, as the table owner.
   */
  async purgeExpiredDeliveries(defaultDays: number, limit: number): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `WITH doomed AS (
         SELECT d.event_id FROM deliveries d JOIN accounts a ON a.id = d.account_id
          WHERE d.created_at < now() - make_interval(days => COALESCE(a.retention_days, $1))
            AND d.status <> ALL($3)
          LIMIT $2
          FOR UPDATE OF d SKIP LOCKED
       ), attempts AS (
         DELETE FROM delivery_attempts WHERE event_id IN (SELECT event_id FROM doomed)
       )
       DELETE FROM deliveries WHERE event_id IN (SELECT event_id FROM doomed) RETURNING 1`,
      [defaultDays, limit, OPEN_DELIVERY_STATUSES],
    );
    return rows.length;
  }

  /**
   * Retention: deletes up to `limit` events older than their account keeps them that have no
   * delivery left (an event with an open delivery keeps it, so keeps the event); returns how many.
   */
  async purgeExpiredEvents(defaultDays: number, limit: number): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `WITH doomed AS (
         SELECT e.id FROM events e JOIN accounts a ON a.id = e.account_id
          WHERE e.created_at < now() - make_interval(days => COALESCE(a.retention_days, $1))
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.source_event_id = e.id)
          LIMIT $2
          FOR UPDATE OF e SKIP LOCKED
       )
       DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING 1`,
      [defaultDays, limit],
    );
    return rows.length;
  }

  /**
   * A destination's deliveries created since `since`, counted per hour (UTC) and current status:
   * the customer portal's health chart. Served by deliveries_account_destination_created_idx.
   */
  countByHourAndStatus(accountId: string, destinationId: string, since: Date): Promise<Array<{ hour: Date; status: DeliveryStatus; count: number }>> {
    return this.tenant.run(accountId, async (manager) => {
      const rows: Array<{ hour: Date; status: DeliveryStatus; count: number }> = await manager.query(
        `SELECT date_trunc('hour', created_at, 'UTC') AS hour, status, count(*)::int AS count
           FROM deliveries
          WHERE account_id = $1 AND destination_id = $2 AND created_at >= $3
          GROUP BY 1, 2`,
        [accountId, destinationId, since],
      );
      return rows;
    });
  }

  isUnavailableError(error: unknown): boolean {
    return isDatabaseUnavailableError(error);
  }

  /** The account's delivery and every attempt of every run, in the order they started; undefined when the account has none with this id. */
  findWithAttempts(accountId: string, eventId: string): Promise<{ delivery: Delivery; attempts: DeliveryAttempt[] } | undefined> {
    return this.tenant.run(accountId, async (manager) => {
      const delivery = await manager.findOneBy(Delivery, { accountId, eventId });
      if (!delivery) return undefined;
      const attempts = await manager.find(DeliveryAttempt, { where: { accountId, eventId }, order: { startedAt: 'ASC', attempt: 'ASC' } });
      return { delivery, attempts };
    });
  }
}

interface DeliveryToDispatchRow extends DispatchDestinationRow {
  event_id: string;
  account_id: string;
  canonical: CanonicalEvent;
  target_event: string;
  /** Only where the rows need ordering after the statement (the outbox claim). */
  created_at?: Date;
}

function toDeliveryToDispatch(row: DeliveryToDispatchRow): DeliveryToDispatch {
  return {
    eventId: row.event_id,
    accountId: row.account_id,
    canonical: row.canonical,
    targetEvent: row.target_event,
    destination: toDispatchDestination(row),
  };
}

interface TargetRow {
  event_id: string;
  attempt_recorded: boolean;
  recorded_status_code: number | null;
  recorded_error: string | null;
  recorded_ended_at_ms: string | null;
  account_id: string;
  account_enabled: boolean;
  default_rate_limit_per_second: number | null;
  default_max_in_flight: number | null;
  auto_disable_after_ms: string | null;
  body: string;
  status: DeliveryStatus;
  test: boolean;
  destination_id: string;
  format: 'json' | 'postback';
  url: string;
  url_template: string | null;
  template_secrets: Record<string, string>;
  success_body: string | null;
  source_event_id: string;
  method: WebhookMethod;
  headers: Record<string, string>;
  signing_secret: string;
  previous_signing_secret: string | null;
  enabled: boolean;
  deleted_at: Date | null;
  paused_at: Date | null;
  rate_limit_per_second: number | null;
  max_in_flight: number | null;
}
