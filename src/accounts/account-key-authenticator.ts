import { Injectable } from '@nestjs/common';
import type { ApiPrincipal } from '../common/api-principal.js';
import { accountKeyDigest, isAccountKeyShape } from './api-key-material.js';
import { ApiKeyRepository } from './api-key.repository.js';

/** `last_used_at` is a hint for spotting unused keys, not an audit log: minute precision is plenty. */
export const LAST_USED_PRECISION_SECONDS = 60;
const LAST_USED_PRECISION_MS = LAST_USED_PRECISION_SECONDS * 1000;

export type AccountPrincipal = Extract<ApiPrincipal, { kind: 'account' }>;

/**
 * Turns a presented `xtk_…` key into its account principal. There is no cache: each request looks
 * its key up by digest (one indexed read, joined with the account), so a revoked key, a changed
 * scope or a disabled account is refused on the very next request, on every API process.
 */
@Injectable()
export class AccountKeyAuthenticator {
  /** When this process last wrote each key's last use: concurrent requests with one key write once. */
  private readonly recordedAt = new Map<string, number>();
  private nextSweepAt = 0;

  constructor(private readonly keys: ApiKeyRepository) {}

  /** Undefined when the token is no key of ours. */
  async authenticate(token: string): Promise<AccountPrincipal | undefined> {
    // A token of the wrong shape cannot be a key we issued: refused without touching the database.
    if (!isAccountKeyShape(token)) return undefined;
    const key = await this.keys.findByDigest(accountKeyDigest(token));
    if (!key) return undefined;
    await this.recordUse(key.id, key.lastUsedAt);
    return { kind: 'account', keyId: key.id, accountId: key.account.id, scopes: key.scopes, account: key.account };
  }

  /** At most one write per key a minute, whatever the request rate. */
  private async recordUse(keyId: string, lastUsedAt: Date | null, now = Date.now()): Promise<void> {
    if (lastUsedAt !== null && now - lastUsedAt.getTime() < LAST_USED_PRECISION_MS) return;
    const recorded = this.recordedAt.get(keyId);
    if (recorded !== undefined && now - recorded < LAST_USED_PRECISION_MS) return;
    this.sweep(now);
    this.recordedAt.set(keyId, now);
    await this.keys.recordUse(keyId, LAST_USED_PRECISION_SECONDS);
  }

  /** Forgets entries older than the precision, once per interval, so revoked keys do not pile up. */
  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + LAST_USED_PRECISION_MS;
    for (const [keyId, recorded] of this.recordedAt) if (now - recorded >= LAST_USED_PRECISION_MS) this.recordedAt.delete(keyId);
  }
}
