import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { principalOf } from './api-principal.js';
import { isPublicRoute } from './route-access.decorator.js';

/**
 * Per-API-key request limit (RATE_LIMIT_PER_MINUTE; 429 with Retry-After past it), across all routes.
 * Runs after the ApiKeyGuard and counts by the principal it attached, so `bearer k`, `BEARER k`
 * and `Bearer  k` share one bucket, and the limiter's storage never holds a usable credential.
 * Requests without a valid key never get here: the FailedAuthLimiter counts those. The count is
 * per process: N API processes allow N times the limit.
 */
@Injectable()
export class ApiRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return isPublicRoute(this.reflector, context);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = principalOf(request as unknown as Request);
    if (!principal) throw new Error('ApiRateLimitGuard ran on a private route before ApiKeyGuard authenticated it');
    return principal.keyId;
  }

  /** One bucket per key for the whole API: the library's default keys by route too, which multiplies the limit by the number of routes. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}
