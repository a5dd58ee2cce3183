import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { TenantAccountContext } from '../common/tenant-account.js';

/** An account as stored; the limits are its overrides (null = the configured default). */
export interface Account {
  id: string;
  name: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
  maxDestinations: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a PUT sets. An override left undefined keeps its stored value; null restores the default. */
export interface AccountFields {
  name: string;
  /** Undefined: true for a new account, unchanged for an existing one. */
  enabled: boolean | undefined;
  rateLimitPerMinute: number | null | undefined;
  maxDestinations: number | null | undefined;
}

export interface AccountUpsert {
  account: Account;
  created: boolean;
  /** Whether it was enabled before this write; undefined when the write created it. */
  wasEnabled: boolean | undefined;
}

interface AccountRow {
  id: string;
  name: string;
  enabled: boolean;
  rate_limit_per_minute: number | null;
  max_destinations: number | null;
  created_at: Date;
  updated_at: Date;
}

const ACCOUNT_COLUMNS = 'id, name, enabled, rate_limit_per_minute, max_destinations, created_at, updated_at';

/**
 * Every statement on `accounts`. Not a tenant table: it is read before any account is chosen (by
 * the guard), so it runs on the plain DataSource, as the table owner.
 */
@Injectable()
export class AccountRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** What the guard attaches to a tenant request; read on every request, so a change applies at once. */
  async findContext(id: string): Promise<TenantAccountContext | undefined> {
    const rows: Array<Pick<AccountRow, 'id' | 'enabled' | 'rate_limit_per_minute' | 'max_destinations'>> = await this.dataSource.query(
      `SELECT id, enabled, rate_limit_per_minute, max_destinations FROM accounts WHERE id = $1`,
      [id],
    );
    const [row] = rows;
    return row && { id: row.id, enabled: row.enabled, rateLimitPerMinute: row.rate_limit_per_minute, maxDestinations: row.max_destinations };
  }

  async find(id: string): Promise<Account | undefined> {
    const rows: AccountRow[] = await this.dataSource.query(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
    return rows[0] && toAccount(rows[0]);
  }

  /**
   * Creates or updates the account. The current row is read locked in the same transaction, so of
   * two concurrent PUTs that enable it exactly one sees it go from disabled to enabled.
   */
  async upsert(id: string, fields: AccountFields): Promise<AccountUpsert> {
    return this.dataSource.transaction(async (manager) => {
      const previous: Array<Pick<AccountRow, 'enabled'>> = await manager.query(`SELECT enabled FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
      const rows: Array<AccountRow & { created: boolean }> = await manager.query(
        `INSERT INTO accounts AS a (id, name, enabled, rate_limit_per_minute, max_destinations)
         VALUES ($1, $2, COALESCE($3::boolean, true), $5::integer, $7::integer)
         ON CONFLICT (id) DO UPDATE SET
           name = EXCLUDED.name,
           enabled = COALESCE($3::boolean, a.enabled),
           rate_limit_per_minute = CASE WHEN $4::boolean THEN $5::integer ELSE a.rate_limit_per_minute END,
           max_destinations = CASE WHEN $6::boolean THEN $7::integer ELSE a.max_destinations END,
           updated_at = now()
         RETURNING ${ACCOUNT_COLUMNS}, (xmax = 0) AS created`,
        [
          id,
          fields.name,
          fields.enabled ?? null,
          fields.rateLimitPerMinute !== undefined,
          fields.rateLimitPerMinute ?? null,
          fields.maxDestinations !== undefined,
          fields.maxDestinations ?? null,
        ],
      );
      const [row] = rows;
      if (!row) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
      return { account: toAccount(row), created: row.created, wasEnabled: previous[0]?.enabled };
    });
  }

  /** One page in id order, starting after `afterId`; `limit + 1` rows are read to know whether more follow. */
  async listAfter(afterId: string | undefined, limit: number): Promise<{ accounts: Account[]; more: boolean }> {
    const rows: AccountRow[] = await this.dataSource.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2`,
      [afterId ?? null, limit + 1],
    );
    return { accounts: rows.slice(0, limit).map(toAccount), more: rows.length > limit };
  }

  /**
   * Stops ingest for the account (the guard reads `enabled` on every request) and holds its
   * deliveries: the first step of deleting it, before its running deliveries are cancelled.
   * False when the account does not exist.
   */
  async disable(id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(`UPDATE accounts SET enabled = false, updated_at = now() WHERE id = $1`, [id]);
    return affected > 0;
  }

  /**
   * Deletes the account; the foreign keys' ON DELETE CASCADE removes, in the same statement, its
   * destinations (with their header values and signing secrets), keys, clicks, events, deliveries
   * and attempts. False when it did not exist.
   */
  async delete(id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(`DELETE FROM accounts WHERE id = $1`, [id]);
    return affected > 0;
  }
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    rateLimitPerMinute: row.rate_limit_per_minute,
    maxDestinations: row.max_destinations,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
