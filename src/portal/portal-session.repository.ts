import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource } from 'typeorm';
import type { TenantAccountContext } from '../common/tenant-account.js';

/** A live session found by its cookie's digest, with its account as the guard attaches it. */
export interface PresentedPortalSession {
  id: string;
  readOnly: boolean;
  expiresAt: Date;
  account: TenantAccountContext;
}

/** What opening a link found: the session it started, or why none. */
export type LinkOpening =
  | { outcome: 'opened'; sessionId: string; accountId: string; expiresAt: Date }
  | { outcome: 'used' | 'expired' | 'unknown' };

/** PostgreSQL's foreign_key_violation: the account was deleted while its link was being minted. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Every statement on `portal_sessions`. Like api_keys it is read before any account is chosen
 * (a session is what chooses it), so it runs as the table owner, not under row-level security.
 */
@Injectable()
export class PortalSessionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores a new link, and forgets sessions that have ended: each mint sweeps, so the table holds
   * live sessions only, without a scheduled job. Undefined when the account no longer exists.
   */
  async createLink(accountId: string, linkDigest: Buffer, readOnly: boolean, expiresInSeconds: number): Promise<{ id: string; expiresAt: Date } | undefined> {
    await this.dataSource.query(`DELETE FROM portal_sessions WHERE expires_at < now()`);
    try {
      const rows: Array<{ id: string; expires_at: Date }> = await this.dataSource.query(
        `INSERT INTO portal_sessions (account_id, read_only, link_digest, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id, expires_at`,
        [accountId, readOnly, linkDigest, expiresInSeconds],
      );
      return { id: rows[0]!.id, expiresAt: rows[0]!.expires_at };
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return undefined;
      throw error;
    }
  }

  /**
   * Spends the link: one conditional UPDATE, so of two concurrent openings exactly one gets the
   * session; the other, like every later one, finds it used.
   */
  async openLink(linkDigest: Buffer, sessionDigest: Buffer): Promise<LinkOpening> {
    // The driver answers an UPDATE … RETURNING with [rows, affected].
    const [[opened]]: [Array<{ id: string; account_id: string; expires_at: Date }>, number] = await this.dataSource.query(
      `UPDATE portal_sessions SET opened_at = now(), session_digest = $2
        WHERE link_digest = $1 AND opened_at IS NULL AND expires_at > now()
        RETURNING id, account_id, expires_at`,
      [linkDigest, sessionDigest],
    );
    if (opened) return { outcome: 'opened', sessionId: opened.id, accountId: opened.account_id, expiresAt: opened.expires_at };
    const [found]: Array<{ used: boolean; expired: boolean }> = await this.dataSource.query(
      `SELECT opened_at IS NOT NULL AS used, expires_at <= now() AS expired FROM portal_sessions WHERE link_digest = $1`,
      [linkDigest],
    );
    if (!found) return { outcome: 'unknown' };
    // An expired link says so even if it was used: what matters to its holder is that it is over.
    return { outcome: found.expired ? 'expired' : 'used' };
  }

  /** The indexed lookup (session_digest is UNIQUE) every request with a portal cookie makes; ended sessions are not found. */
  async findLiveSession(sessionDigest: Buffer): Promise<PresentedPortalSession | undefined> {
    const rows: Array<{
      id: string;
      read_only: boolean;
      expires_at: Date;
      account_id: string;
      enabled: boolean;
      rate_limit_per_minute: number | null;
      max_destinations: number | null;
      default_rate_limit_per_second: number | null;
      default_max_in_flight: number | null;
    }> = await this.dataSource.query(
      `SELECT s.id, s.read_only, s.expires_at, a.id AS account_id, a.enabled, a.rate_limit_per_minute, a.max_destinations,
              a.default_rate_limit_per_second, a.default_max_in_flight
         FROM portal_sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.session_digest = $1 AND s.expires_at > now()`,
      [sessionDigest],
    );
    const [row] = rows;
    return (
      row && {
        id: row.id,
        readOnly: row.read_only,
        expiresAt: row.expires_at,
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
}
