import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { TenantDatabase } from '../database/tenant-database.js';
import { clickContextFromRow, type ClickContext, type ClickRow } from '../events/webhook-body.js';
import { Destination, ERASED_SIGNING_SECRET, type DestinationFilter, type RetryPolicyOverrides } from './destination.entity.js';

/** What starting a delivery needs of its destination: the plan's numbers, never its secrets. */
export interface DispatchDestination {
  id: string;
  name: string;
  /** Null → the global DELIVERY_TIMEOUT_MS. */
  timeoutMs: number | null;
  retryPolicy: RetryPolicyOverrides;
}

/** The destination columns of a dispatch, as every statement that joins destinations selects them. */
export interface DispatchDestinationRow {
  destination_id: string;
  destination_name: string;
  timeout_ms: number | null;
  retry_policy: RetryPolicyOverrides;
}

/** The select list that produces a DispatchDestinationRow from the destinations table aliased `t`. */
export const DISPATCH_DESTINATION_COLUMNS = 't.id AS destination_id, t.name AS destination_name, t.timeout_ms, t.retry_policy';

export function toDispatchDestination(row: DispatchDestinationRow): DispatchDestination {
  return { id: row.destination_id, name: row.destination_name, timeoutMs: row.timeout_ms, retryPolicy: row.retry_policy };
}

/** A destination an event reaches, with the name its canonical event maps to there. */
export interface MatchedDestination extends DispatchDestination {
  targetEvent: string;
  /** A disabled destination still gets the delivery, as `skipped`, so nothing is silently dropped. */
  enabled: boolean;
  disabledReason: string | null;
  filter: DestinationFilter | null;
}

/** The fields a destination is created with; the account is the repository's to set, everything else the database's. */
export type NewDestination = Pick<
  Destination,
  | 'name' | 'url' | 'method' | 'headers' | 'eventMap' | 'enabled' | 'timeoutMs' | 'retryPolicy' | 'signingSecret'
  | 'rateLimitPerSecond' | 'maxInFlight' | 'disabledAt' | 'disabledReason'
  | 'format' | 'urlTemplate' | 'templateSecrets' | 'successBody' | 'filter'
>;

/** The fields a change may set; undefined leaves a field as it is. */
export type DestinationChanges = Partial<
  Pick<
    Destination,
    | 'name' | 'url' | 'method' | 'headers' | 'eventMap' | 'enabled' | 'timeoutMs' | 'retryPolicy'
    | 'rateLimitPerSecond' | 'maxInFlight' | 'pausedAt' | 'disabledAt' | 'disabledReason'
    | 'url' | 'urlTemplate' | 'templateSecrets' | 'successBody' | 'filter'
  >
>;

/**
 * With the account id, the key of the advisory lock a create holds while it counts the account's
 * live destinations: concurrent creates in one account cannot overshoot its cap, and creates in
 * different accounts do not wait for each other.
 */
const CREATE_LOCK_NAMESPACE = 'destinations: create';

/** What ingest reads before it writes: the click of the uid and the destinations the event reaches. */
export interface EventMatch {
  click: ClickContext | undefined;
  /** At most the fan-out limit, oldest first. */
  destinations: MatchedDestination[];
  /** True when more destinations match than the limit lets one event reach. */
  beyondLimit: boolean;
}

/**
 * Every statement on the `destinations` table. Each takes the account first, filters by it and runs
 * through TenantDatabase, whose row-level security hides every other account's rows should a
 * filter be missing: another account's destination is not found, exactly like one that does not exist.
 */
@Injectable()
export class DestinationRepository {
  constructor(private readonly tenant: TenantDatabase) {}

  /**
   * Inserts the destination into the account unless `limit` live ones exist there already (then
   * returns undefined). The count and the insert run under one advisory lock of the account, so
   * concurrent creates cannot both pass.
   */
  createWithin(accountId: string, limit: number, fields: NewDestination): Promise<Destination | undefined> {
    return this.tenant.run(accountId, async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [CREATE_LOCK_NAMESPACE, accountId]);
      // Soft-deleted rows are not counted: the cap bounds what can receive deliveries.
      if ((await manager.countBy(Destination, { accountId })) >= limit) return undefined;
      return manager.save(manager.create(Destination, { ...fields, accountId }));
    });
  }

  findLive(accountId: string, id: string): Promise<Destination | null> {
    return this.tenant.run(accountId, (manager) => manager.findOneBy(Destination, { accountId, id }));
  }

  listLive(accountId: string): Promise<Destination[]> {
    return this.tenant.run(accountId, (manager) => manager.find(Destination, { where: { accountId }, order: { createdAt: 'ASC', id: 'ASC' } }));
  }

  /**
   * Reads the live row locked, lets `change` decide what to set from it, and saves that, all in one
   * transaction: a concurrent delete waits, so it never erases secrets a change then writes back.
   * Returns undefined when the account has no such destination (or it was deleted).
   */
  changeLocked(
    accountId: string,
    id: string,
    change: (current: Destination, manager: EntityManager) => DestinationChanges | Promise<DestinationChanges>,
  ): Promise<Destination | undefined> {
    return this.tenant.run(accountId, async (manager) => {
      const current = await lockLive(manager, accountId, id);
      if (!current) return undefined;
      // Undefined fields are left as they are; null is a value (back to a default).
      const changes = Object.fromEntries(Object.entries(await change(current, manager)).filter(([, value]) => value !== undefined));
      manager.merge(Destination, current, changes);
      return manager.save(current);
    });
  }

  /** The current secret becomes the previous one until `previousExpiresAt`; undefined when absent. */
  rotateSigningSecret(accountId: string, id: string, newSecret: string, previousExpiresAt: Date): Promise<Destination | undefined> {
    return this.tenant.run(accountId, async (manager) => {
      const current = await lockLive(manager, accountId, id);
      if (!current) return undefined;
      current.previousSigningSecret = current.signingSecret;
      current.previousSigningSecretExpiresAt = previousExpiresAt;
      current.signingSecret = newSecret;
      return manager.save(current);
    });
  }

  /**
   * Soft delete that erases what only sending needed (header values, signing secrets) in the same
   * statement, so the row is never deleted yet still holding them. False when nothing was live.
   */
  async softDeleteErasingSecrets(accountId: string, id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `UPDATE destinations
            SET deleted_at = now(), updated_at = now(), headers = '{}', template_secrets = '{}',
                signing_secret = $3, previous_signing_secret = NULL, previous_signing_secret_expires_at = NULL
          WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL`,
        [accountId, id, ERASED_SIGNING_SECRET],
      ),
    );
    return affected > 0;
  }

  /**
   * Disables a destination that has been failing longer than its account allows (the traffic
   * gate's auto-disable), with the reason, unless it is already disabled or deleted. Runs in the
   * gate's transaction (`manager`, as the table owner: the worker's system work). True when it changed.
   */
  async disableAfterFailures(accountId: string, id: string, reason: string, manager: EntityManager): Promise<boolean> {
    const [, affected]: [unknown[], number] = await manager.query(
      `UPDATE destinations SET enabled = false, disabled_at = now(), disabled_reason = $3, updated_at = now()
        WHERE account_id = $1 AND id = $2 AND enabled AND deleted_at IS NULL
       RETURNING 1`,
      [accountId, id, reason],
    );
    return affected > 0;
  }

  /**
   * The account's live destinations (enabled or not) that map `canonical`, oldest first and at most `limit` of
   * them, and the account's click of `uid`, in one round trip: ingest reads both before it writes,
   * in its tenant transaction (`manager`, of TenantDatabase.run for `accountId`). The click is read
   * here, not through the click repository, because joining it saves a statement on the hottest
   * path (one row of NULLs when no destination matches, so the click still comes back). One row
   * past the limit is read to tell whether the limit cut any off.
   */
  async matchEvent(accountId: string, canonical: CanonicalEvent, uid: string, limit: number, manager: EntityManager): Promise<EventMatch> {
    const rows: MatchQueryRow[] = await manager.query(
      `SELECT c.uid AS click_uid, c.tg_id, c.fbclid, c.campaign_id, c.campaign_name, c.country,
              t.destination_id, t.destination_name, t.target_event, t.timeout_ms, t.retry_policy, t.enabled, t.disabled_reason, t.filter
         FROM (SELECT 1) AS one
         LEFT JOIN clicks c ON c.account_id = $1 AND c.uid = $3
         LEFT JOIN LATERAL (
           SELECT ${DISPATCH_DESTINATION_COLUMNS}, t.event_map ->> $2 AS target_event, t.created_at, t.enabled, t.disabled_reason, t.filter
             FROM destinations t
            WHERE t.account_id = $1 AND t.deleted_at IS NULL AND t.event_map ? $2
            ORDER BY t.created_at, t.id
            LIMIT $4
         ) t ON true
        ORDER BY t.created_at, t.destination_id`,
      [accountId, canonical, uid, limit + 1],
    );
    const first = rows[0];
    const click = first?.click_uid ? clickContextFromRow({ ...first, uid: first.click_uid }) : undefined;
    const destinations = rows
      .filter((row): row is MatchQueryRow & MatchedDestinationRow => row.destination_id !== null)
      .map((row) => ({ ...toDispatchDestination(row), targetEvent: row.target_event, enabled: row.enabled, disabledReason: row.disabled_reason, filter: row.filter }));
    return { click, destinations: destinations.slice(0, limit), beyondLimit: destinations.length > limit };
  }
}

/** One row per matching destination (one row of NULLs when none matches), each carrying the click. */
type MatchQueryRow = Omit<ClickRow, 'uid'> & { click_uid: string | null } & { [K in keyof MatchedDestinationRow]: MatchedDestinationRow[K] | null };

interface MatchedDestinationRow extends DispatchDestinationRow {
  target_event: string;
  enabled: boolean;
  disabled_reason: string | null;
  filter: DestinationFilter | null;
}

/** The account's live row, locked until the transaction ends so a concurrent delete waits for it. */
function lockLive(manager: EntityManager, accountId: string, id: string): Promise<Destination | null> {
  return manager.findOne(Destination, { where: { accountId, id }, lock: { mode: 'pessimistic_write' } });
}
