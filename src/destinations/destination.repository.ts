import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { clickContextFromRow, type ClickContext, type ClickRow } from '../events/webhook-body.js';
import { Destination, ERASED_SIGNING_SECRET, type RetryPolicyOverrides } from './destination.entity.js';

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
}

/** The fields a destination is created with; everything else is set by the database. */
export type NewDestination = Pick<
  Destination,
  'name' | 'url' | 'method' | 'headers' | 'eventMap' | 'enabled' | 'timeoutMs' | 'retryPolicy' | 'signingSecret'
>;

/** The fields a change may set; undefined leaves a field as it is. */
export type DestinationChanges = Partial<
  Pick<Destination, 'name' | 'url' | 'method' | 'headers' | 'eventMap' | 'enabled' | 'timeoutMs' | 'retryPolicy'>
>;

/** Held while a create counts the live destinations, so concurrent creates cannot overshoot the cap. */
const CREATE_LOCK_KEY = 'destinations: create';

/** Every statement on the `destinations` table. */
@Injectable()
export class DestinationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts the destination unless `limit` live ones exist already (then returns undefined).
   * The count and the insert run under one advisory lock, so concurrent creates cannot both pass.
   */
  async createWithin(limit: number, fields: NewDestination): Promise<Destination | undefined> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [CREATE_LOCK_KEY]);
      // Soft-deleted rows are not counted: the cap bounds what can receive deliveries.
      if ((await manager.count(Destination)) >= limit) return undefined;
      return manager.save(manager.create(Destination, fields));
    });
  }

  findLive(id: string): Promise<Destination | null> {
    return this.dataSource.manager.findOneBy(Destination, { id });
  }

  listLive(): Promise<Destination[]> {
    return this.dataSource.manager.find(Destination, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Reads the live row locked, lets `change` decide what to set from it, and saves that, all in one
   * transaction: a concurrent delete waits, so it never erases secrets a change then writes back.
   * Returns undefined when the destination does not exist (or was deleted).
   */
  async changeLocked(id: string, change: (current: Destination) => DestinationChanges | Promise<DestinationChanges>): Promise<Destination | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const current = await lockLive(manager, id);
      if (!current) return undefined;
      manager.merge(Destination, current, await change(current));
      return manager.save(current);
    });
  }

  /** The current secret becomes the previous one until `previousExpiresAt`; undefined when absent. */
  async rotateSigningSecret(id: string, newSecret: string, previousExpiresAt: Date): Promise<Destination | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const current = await lockLive(manager, id);
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
  async softDeleteErasingSecrets(id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE destinations
          SET deleted_at = now(), updated_at = now(), headers = '{}',
              signing_secret = $2, previous_signing_secret = NULL, previous_signing_secret_expires_at = NULL
        WHERE id = $1 AND deleted_at IS NULL`,
      [id, ERASED_SIGNING_SECRET],
    );
    return affected > 0;
  }

  /**
   * The enabled destinations that map `canonical`, oldest first, and the click of `uid`, in one
   * round trip: ingest reads both before it writes. The click is read here, not through the click
   * repository, because joining it saves a statement on the hottest path (one row of NULLs when no
   * destination matches, so the click still comes back).
   */
  async matchEvent(canonical: CanonicalEvent, uid: string): Promise<{ click: ClickContext | undefined; destinations: MatchedDestination[] }> {
    const rows: MatchQueryRow[] = await this.dataSource.query(
      `SELECT c.uid AS click_uid, c.tg_id, c.fbclid, c.campaign_id, c.campaign_name, c.country,
              t.destination_id, t.destination_name, t.target_event, t.timeout_ms, t.retry_policy
         FROM (SELECT 1) AS one
         LEFT JOIN clicks c ON c.uid = $2
         LEFT JOIN LATERAL (
           SELECT ${DISPATCH_DESTINATION_COLUMNS}, t.event_map ->> $1 AS target_event, t.created_at
             FROM destinations t
            WHERE t.enabled AND t.deleted_at IS NULL AND t.event_map ? $1
         ) t ON true
        ORDER BY t.created_at, t.destination_id`,
      [canonical, uid],
    );
    const first = rows[0];
    const click = first?.click_uid ? clickContextFromRow({ ...first, uid: first.click_uid }) : undefined;
    const destinations = rows
      .filter((row): row is MatchQueryRow & MatchedDestinationRow => row.destination_id !== null)
      .map((row) => ({ ...toDispatchDestination(row), targetEvent: row.target_event }));
    return { click, destinations };
  }
}

/** One row per matching destination (one row of NULLs when none matches), each carrying the click. */
type MatchQueryRow = Omit<ClickRow, 'uid'> & { click_uid: string | null } & { [K in keyof MatchedDestinationRow]: MatchedDestinationRow[K] | null };

interface MatchedDestinationRow extends DispatchDestinationRow {
  target_event: string;
}

/** The live row, locked until the transaction ends so a concurrent delete waits for it. */
function lockLive(manager: EntityManager, id: string): Promise<Destination | null> {
  return manager.findOne(Destination, { where: { id }, lock: { mode: 'pessimistic_write' } });
}
