import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const WINDOW_MS = 60_000;
/** IPv6 clients usually own a whole /64: counting per address would give each of them 2^64 budgets. */
const IPV6_PREFIX_BITS = 64;

/**
 * Requests without a valid key, per client address, in fixed one-minute windows
 * (RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE; 0 = off). Counted per process, like the per-key limit.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly limit: number;
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();
  private nextSweepAt = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.rateLimitUnauthenticatedPerMinute;
  }

  /** Seconds until the address may try again, or undefined while it is under its limit. */
  retryAfterSeconds(address: string, now = Date.now()): number | undefined {
    if (this.limit === 0) return undefined;
    const window = this.windows.get(address);
    if (!window || window.endsAt <= now || window.failures < this.limit) return undefined;
    return Math.max(1, Math.ceil((window.endsAt - now) / 1000));
  }

  recordFailure(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      window.failures += 1;
      return;
    }
    this.sweep(now);
    this.windows.set(address, { failures: 1, endsAt: now + WINDOW_MS });
  }

  /** At most once a window, so a flood from many addresses costs one pass per minute, not one per address. */
  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + WINDOW_MS;
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
  }
}

/** The client address as Express derives it: the peer, or what a proxy trusted through TRUST_PROXY says. */
export function clientAddress(request: Request): string {
  const ip = request.ip ?? request.socket.remoteAddress;
  return ip === undefined ? 'unknown' : normalizeIp(ip, IPV6_PREFIX_BITS);
}
