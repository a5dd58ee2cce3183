import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource } from 'typeorm';
import type { ApiScope } from '../common/api-principal.js';
import type { TenantAccountContext } from '../common/tenant-account.js';

/** A key as listings show it: never the key, never its digest. */
export interface ApiKey {
  id: string;
  accountId: string;
  name: string;
  scopes: ApiScope[];
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface NewApiKey {
  name: string;
  scopes: ApiScope[];
  prefix: string;
  digest: Buffer;
}

/** A key found by its digest, with its account as the guard attaches it: one statement per request. */
export interface PresentedApiKey {
  id: string;
  scopes: ApiScope[];
  lastUsedAt: Date | null;
  account: TenantAccountContext;
}

interface ApiKeyRow {
  id: string;
  account_id: string;
  name: string;
  scopes: ApiScope[];
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** The columns a key is shown with; `digest` is deliberately not among them. */
const LISTED_COLUMNS = 'id, account_id, name, scopes, prefix, created_at, last_used_at';

/** PostgreSQL's foreign_key_violation: the account was deleted while its key was being created. */
const FOREIGN_KEY_VIOLATION = '23503';

/** Every statement on `api_keys`; like `accounts`, read before any account is chosen, so not under RLS. */
@Injectable()
export class ApiKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Undefined when the account no longer exists. */
  async create(accountId: string, key: NewApiKey): Promise<ApiKey | undefined> {
    try {
      const rows: ApiKeyRow[] = await this.dataSource.query(
        `INSERT INTO api_keys (account_id, name, scopes, prefix, digest) VALUES ($1, $2, $3::text[], $4, $5) RETURNING ${LISTED_COLUMNS}`,
        [accountId, key.name, key.scopes, key.prefix, key.digest],
      );
      return toApiKey(rows[0]!);
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return undefined;
      throw error;
    }
  }

  async listForAccount(accountId: string): Promise<ApiKey[]> {
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `SELECT ${LISTED_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    );
    return rows.map(toApiKey);
  }

  /**
   * Deletes the key: the next request that presents it finds no row, on every API process, because
   * every request looks its key up here (nothing caches a key). False when the account has no such key.
   */
  async revoke(accountId: string, id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(`DELETE FROM api_keys WHERE account_id = $1 AND id = $2`, [accountId, id]);
    return affected > 0;
  }

  /** The indexed lookup (api_keys.digest is UNIQUE) every request with an account key makes. */
  async findByDigest(digest: Buffer): Promise<PresentedApiKey | undefined> {
    const rows: Array<{
      id: string;
      scopes: ApiScope[];
      last_used_at: Date | null;
      account_id: string;
      enabled: boolean;
      rate_limit_per_minute: number | null;
      max_destinations: number | null;
      default_rate_limit_per_second: number | null;
      default_max_in_flight: number | null;
    }> = await this.dataSource.query(
      `SELECT k.id, k.scopes, k.last_used_at, a.id AS account_id, a.enabled, a.rate_limit_per_minute, a.max_destinations,
              a.default_rate_limit_per_second, a.default_max_in_flight
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
        WHERE k.digest = $1`,
      [digest],
    );
    const [row] = rows;
    return (
      row && {
        id: row.id,
        scopes: row.scopes,
        lastUsedAt: row.last_used_at,
        account: {
          id: row.account_id,
          enabled: row.enabled,
          rateLimitPerMinute: row.rate_limit_per_minute,
          maxDestinations: row.max_destinations,
          defaultRatePerSecond: row.default_rate_limit_per_second,
          defaultMaxInFlight: row.default_max_in_flight,
        },
      }
    );
  }

  /**
   * Records a use, unless one was recorded less than `intervalSeconds` ago: the condition makes it
   * at most one write per key and interval across all API processes, not one per request.
   */
  async recordUse(id: string, intervalSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
      [id, intervalSeconds],
    );
  }
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    scopes: row.scopes,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
