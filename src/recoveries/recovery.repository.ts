import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { RecoverableStatus, RecoveryState } from '../../contract/recovery.js';
import { TenantDatabase } from '../database/tenant-database.js';
import type { DeliveryCursor } from '../deliveries/delivery-cursor.js';

export interface Recovery {
  id: string;
  accountId: string;
  destinationId: string | null;
  since: Date;
  until: Date | null;
  statuses: RecoverableStatus[];
  state: RecoveryState;
  total: number | null;
  matched: number;
  retried: number;
  skipped: number;
  destinationDeleted: number;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface NewRecovery {
  destinationId: string | null;
  since: string;
  until: string | null;
  statuses: readonly RecoverableStatus[];
}

/** A recovery as its next page needs it: the filter, the state and where the page starts. */
export interface RecoveryProgress {
  state: RecoveryState;
  destinationId: string | null;
  /** PostgreSQL's text of the times, passed back to it unchanged. */
  since: string;
  until: string | null;
  statuses: RecoverableStatus[];
  cursor: DeliveryCursor | undefined;
  /** Null until the first page counted what matches. */
  total: number | null;
}

/** What one page did, counted into the row. `skipped` includes `destinationDeleted`. */
export interface PageCounts {
  matched: number;
  retried: number;
  skipped: number;
  destinationDeleted: number;
}

const COLUMNS = 'id, account_id, destination_id, since, until, statuses, state, total, matched, retried, skipped, destination_deleted, error, created_at, finished_at';

/**
 * Every statement on `recoveries`, each in the account's tenant transaction (row-level security
 * hides other accounts' recoveries) except the retention purge, which is system work across
 * accounts. The API creates and cancels; the recovery's activities read the filter and cursor and
 * record each page's progress.
 */
@Injectable()
export class RecoveryRepository {
  constructor(
    private readonly tenant: TenantDatabase,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Retention: up to `limit` finished recoveries past their account's retention; returns how many. */
  async purgeFinished(defaultDays: number, limit: number): Promise<number> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM recoveries WHERE id IN (
         SELECT r.id FROM recoveries r JOIN accounts a ON a.id = r.account_id
          WHERE r.state <> 'running' AND r.created_at < now() - make_interval(days => COALESCE(a.retention_days, $1))
          LIMIT $2
          FOR UPDATE OF r SKIP LOCKED
       ) RETURNING 1`,
      [defaultDays, limit],
    );
    return rows.length;
  }

  async create(accountId: string, recovery: NewRecovery): Promise<Recovery> {
    const [row]: RecoveryRow[] = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `INSERT INTO recoveries (account_id, destination_id, since, until, statuses) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [accountId, recovery.destinationId, recovery.since, recovery.until, recovery.statuses],
      ),
    );
    return toRecovery(row!);
  }

  async find(accountId: string, id: string): Promise<Recovery | undefined> {
    const [row]: RecoveryRow[] = await this.tenant.run(accountId, (manager) =>
      manager.query(`SELECT ${COLUMNS} FROM recoveries WHERE account_id = $1 AND id = $2`, [accountId, id]),
    );
    return row && toRecovery(row);
  }

  /** running → `state`; false when it had already finished (the first finish wins). */
  async finish(accountId: string, id: string, state: Exclude<RecoveryState, 'running'>, error: string | null = null): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.tenant.run(accountId, (manager) =>
      manager.query(`UPDATE recoveries SET state = $3, error = $4, finished_at = now() WHERE account_id = $1 AND id = $2 AND state = 'running'`, [
        accountId,
        id,
        state,
        error,
      ]),
    );
    return affected > 0;
  }

  async progress(accountId: string, id: string): Promise<RecoveryProgress | undefined> {
    const [row]: Array<{
      state: RecoveryState;
      destination_id: string | null;
      since: string;
      until: string | null;
      statuses: RecoverableStatus[];
      cursor_created_at: string | null;
      cursor_event_id: string | null;
      total: number | null;
    }> = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `SELECT state, total, destination_id, since::text AS since, until::text AS until, statuses, cursor_created_at::text AS cursor_created_at, cursor_event_id
           FROM recoveries WHERE account_id = $1 AND id = $2`,
        [accountId, id],
      ),
    );
    if (!row) return undefined;
    return {
      state: row.state,
      destinationId: row.destination_id,
      since: row.since,
      until: row.until,
      statuses: row.statuses,
      cursor: row.cursor_created_at !== null && row.cursor_event_id !== null ? { createdAt: row.cursor_created_at, eventId: row.cursor_event_id } : undefined,
      total: row.total,
    };
  }

  /** The first count of what matches, kept: a repeated first page does not change it. */
  async recordTotal(accountId: string, id: string, total: number): Promise<void> {
    await this.tenant.run(accountId, (manager) =>
      manager.query(`UPDATE recoveries SET total = $3 WHERE account_id = $1 AND id = $2 AND total IS NULL`, [accountId, id, total]),
    );
  }

  /**
   * Adds a page's counts and moves the cursor, only if the cursor is still the one the page started
   * from: a page recorded twice (its activity retried after the write) is counted once. Whatever the
   * state: retries made before a cancel landed are counted too.
   */
  async recordPage(accountId: string, id: string, from: DeliveryCursor | undefined, to: DeliveryCursor | undefined, counts: PageCounts): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.tenant.run(accountId, (manager) =>
      manager.query(
        `UPDATE recoveries SET matched = matched + $5, retried = retried + $6, skipped = skipped + $7, destination_deleted = destination_deleted + $8,
                cursor_created_at = COALESCE($9::timestamptz, cursor_created_at), cursor_event_id = COALESCE($10::text, cursor_event_id)
          WHERE account_id = $1 AND id = $2
            AND cursor_created_at IS NOT DISTINCT FROM $3::timestamptz AND cursor_event_id IS NOT DISTINCT FROM $4::text`,
        [
          accountId,
          id,
          from?.createdAt ?? null,
          from?.eventId ?? null,
          counts.matched,
          counts.retried,
          counts.skipped,
          counts.destinationDeleted,
          to?.createdAt ?? null,
          to?.eventId ?? null,
        ],
      ),
    );
    return affected > 0;
  }
}

interface RecoveryRow {
  id: string;
  account_id: string;
  destination_id: string | null;
  since: Date;
  until: Date | null;
  statuses: RecoverableStatus[];
  state: RecoveryState;
  total: number | null;
  matched: number;
  retried: number;
  skipped: number;
  destination_deleted: number;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

function toRecovery(row: RecoveryRow): Recovery {
  return {
    id: row.id,
    accountId: row.account_id,
    destinationId: row.destination_id,
    since: row.since,
    until: row.until,
    statuses: row.statuses,
    state: row.state,
    total: row.total,
    matched: row.matched,
    retried: row.retried,
    skipped: row.skipped,
    destinationDeleted: row.destination_deleted,
    error: row.error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
