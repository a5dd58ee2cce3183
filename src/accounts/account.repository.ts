import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { TenantAccountContext } from '../common/tenant-account.js';

/** An account as stored; the limits are its overrides (null = the configured default). */
export interface Account {
  id: string;
  name: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
  maxDestinations: number | null;
  /** Defaults for the account's destinations (null = the configured ones); see docs/TRAFFIC.md. */
  defaultRatePerSecond: number | null;
  defaultMaxInFlight: number | null;
  autoDisableAfterMs: number | null;
  /** Days its deliveries, attempts and events are kept (null = RETENTION_DAYS). */
  retentionDays: number | null;
  /** Where the account's operational notifications go; its signing secrets are never part of an Account. */
  operationalWebhookUrl: string | null;
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
  defaultRatePerSecond: number | null | undefined;
  defaultMaxInFlight: number | null | undefined;
  autoDisableAfterMs: number | null | undefined;
  retentionDays: number | null | undefined;
  /** Undefined keeps it as it is. */
  operationalWebhook?: OperationalWebhookChange;
}

/**
 * A new operational_webhook_url, with the secret to store should the account have none yet (it
 * keeps its secret when only the URL changes); or null, which removes the URL and its secrets.
 */
export type OperationalWebhookChange = { url: string; secretIfNone: string } | { url: null };

/** The account's operational webhook as the worker signs and sends to it: current secret first. */
export interface OperationalWebhookEndpoint {
  url: string;
  signingSecrets: string[];
}

export interface AccountUpsert {
  account: Account;
  created: boolean;
  /** Whether it was enabled before this write; undefined when the write created it. */
  wasEnabled: boolean | undefined;
  /** The operational webhook secret this write generated, to be shown once; undefined otherwise. */
  issuedOperationalWebhookSecret?: string;
}

interface AccountRow {
  id: string;
  name: string;
  enabled: boolean;
  rate_limit_per_minute: number | null;
  max_destinations: number | null;
  operational_webhook_url: string | null;
  default_rate_limit_per_second: number | null;
  default_max_in_flight: number | null;
  /** bigint: arrives as text. */
  auto_disable_after_ms: string | null;
  retention_days: number | null;
  created_at: Date;
  updated_at: Date;
}

const ACCOUNT_COLUMNS =
  'id, name, enabled, rate_limit_per_minute, max_destinations, default_rate_limit_per_second, default_max_in_flight, auto_disable_after_ms, retention_days, operational_webhook_url, created_at, updated_at';

/**
 * Every statement on `accounts`. Not a tenant table: it is read before any account is chosen (by
 * the guard), so it runs on the plain DataSource, as the table owner.
 */
@Injectable()
export class AccountRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** What the guard attaches to a tenant request; read on every request, so a change applies at once. */
  async findContext(id: string): Promise<TenantAccountContext | undefined> {
    const rows: Array<Pick<AccountRow, 'id' | 'enabled' | 'rate_limit_per_minute' | 'max_destinations' | 'default_rate_limit_per_second' | 'default_max_in_flight'>> = await this.dataSource.query(
      `SELECT id, enabled, rate_limit_per_minute, max_destinations, default_rate_limit_per_second, default_max_in_flight FROM accounts WHERE id = $1`,
      [id],
    );
    const [row] = rows;
    return (
      row && {
        id: row.id,
        enabled: row.enabled,
        rateLimitPerMinute: row.rate_limit_per_minute,
        maxDestinations: row.max_destinations,
        defaultRatePerSecond: row.default_rate_limit_per_second,
        defaultMaxInFlight: row.default_max_in_flight,
      }
    );
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
        `INSERT INTO accounts AS a (id, name, enabled, rate_limit_per_minute, max_destinations, default_rate_limit_per_second, default_max_in_flight, auto_disable_after_ms, retention_days)
         VALUES ($1, $2, COALESCE($3::boolean, true), $5::integer, $7::integer, $9::double precision, $11::integer, $13::bigint, $15::integer)
         ON CONFLICT (id) DO UPDATE SET
           name = EXCLUDED.name,
           enabled = COALESCE($3::boolean, a.enabled),
           rate_limit_per_minute = CASE WHEN $4::boolean THEN $5::integer ELSE a.rate_limit_per_minute END,
           max_destinations = CASE WHEN $6::boolean THEN $7::integer ELSE a.max_destinations END,
           default_rate_limit_per_second = CASE WHEN $8::boolean THEN $9::double precision ELSE a.default_rate_limit_per_second END,
           default_max_in_flight = CASE WHEN $10::boolean THEN $11::integer ELSE a.default_max_in_flight END,
           auto_disable_after_ms = CASE WHEN $12::boolean THEN $13::bigint ELSE a.auto_disable_after_ms END,
           retention_days = CASE WHEN $14::boolean THEN $15::integer ELSE a.retention_days END,
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
          fields.defaultRatePerSecond !== undefined,
          fields.defaultRatePerSecond ?? null,
          fields.defaultMaxInFlight !== undefined,
          fields.defaultMaxInFlight ?? null,
          fields.autoDisableAfterMs !== undefined,
          fields.autoDisableAfterMs ?? null,
          fields.retentionDays !== undefined,
          fields.retentionDays ?? null,
        ],
      );
      const [row] = rows;
      if (!row) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
      const operational = fields.operationalWebhook && (await this.changeOperationalWebhook(manager, id, fields.operationalWebhook));
      const account = toAccount(operational ? { ...row, operational_webhook_url: operational.url } : row);
      return { account, created: row.created, wasEnabled: previous[0]?.enabled, issuedOperationalWebhookSecret: operational?.issuedSecret };
    });
  }

  /**
   * In the upsert's transaction, on the row it just wrote. A secret exists only with a URL: the
   * first URL stores `secretIfNone`, a later one keeps the secret, and removing the URL erases both
   * secrets (setting one again issues a new secret).
   */
  private async changeOperationalWebhook(manager: EntityManager, id: string, change: OperationalWebhookChange): Promise<{ url: string | null; issuedSecret: string | undefined }> {
    const secretIfNone = change.url === null ? null : change.secretIfNone;
    const [rows]: [Array<{ operational_webhook_url: string | null; issued: boolean | null }>, number] = await manager.query(
      `UPDATE accounts SET
         operational_webhook_url = $2::text,
         operational_webhook_secret = CASE WHEN $2::text IS NULL THEN NULL ELSE COALESCE(operational_webhook_secret, $3::text) END,
         operational_webhook_previous_secret = CASE WHEN $2::text IS NULL THEN NULL ELSE operational_webhook_previous_secret END,
         operational_webhook_previous_secret_expires_at = CASE WHEN $2::text IS NULL THEN NULL ELSE operational_webhook_previous_secret_expires_at END
       WHERE id = $1
       RETURNING operational_webhook_url, operational_webhook_secret = $3::text AS issued`,
      [id, change.url, secretIfNone],
    );
    const [row] = rows;
    if (!row) throw new Error('the account row written in this transaction was not found');
    return { url: row.operational_webhook_url, issuedSecret: row.issued === true && secretIfNone !== null ? secretIfNone : undefined };
  }

  /**
   * Replaces the operational webhook secret; the previous one keeps signing until `previousExpiresAt`.
   * False when the account has no operational_webhook_url (so no secret to rotate) or does not exist.
   */
  async rotateOperationalWebhookSecret(id: string, secret: string, previousExpiresAt: Date): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE accounts SET
         operational_webhook_previous_secret = operational_webhook_secret,
         operational_webhook_previous_secret_expires_at = $3,
         operational_webhook_secret = $2,
         updated_at = now()
       WHERE id = $1 AND operational_webhook_url IS NOT NULL`,
      [id, secret, previousExpiresAt],
    );
    return affected > 0;
  }

  /**
   * Where the worker sends the account's operational notifications and the secrets it signs them
   * with (the previous one only until its grace period ends); undefined when the account has no
   * operational_webhook_url or no longer exists. System work of the worker, across accounts.
   */
  async findOperationalWebhook(id: string): Promise<OperationalWebhookEndpoint | undefined> {
    const rows: Array<{ url: string | null; secret: string | null; previous_secret: string | null }> = await this.dataSource.query(
      `SELECT operational_webhook_url AS url, operational_webhook_secret AS secret,
              CASE WHEN operational_webhook_previous_secret_expires_at > now() THEN operational_webhook_previous_secret END AS previous_secret
         FROM accounts WHERE id = $1`,
      [id],
    );
    const [row] = rows;
    if (!row?.url || !row.secret) return undefined;
    return { url: row.url, signingSecrets: row.previous_secret ? [row.secret, row.previous_secret] : [row.secret] };
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
    defaultRatePerSecond: row.default_rate_limit_per_second,
    defaultMaxInFlight: row.default_max_in_flight,
    autoDisableAfterMs: row.auto_disable_after_ms === null ? null : Number(row.auto_disable_after_ms),
    retentionDays: row.retention_days,
    operationalWebhookUrl: row.operational_webhook_url,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
