import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import type { Request } from 'express';
import { principalOf, type ApiPrincipal } from './api-principal.js';
import { isPublicRoute } from './route-access.decorator.js';

/**
 * Request limit across all routes, 429 with Retry-After past it. Account keys count per account
 * (every key of one account shares a bucket) against the account's `rate_limit_per_minute`, or
 * RATE_LIMIT_PER_MINUTE when it has none; service keys count per key against RATE_LIMIT_PER_MINUTE.
 * 0 turns a limit off. Runs after the ApiKeyGuard and counts by the principal it attached, so
 * `bearer k`, `BEARER k` and `Bearer  k` share one bucket and the limiter's storage never holds a
 * usable credential; it runs before access control, so refused requests (403, 404) count too.
 * Requests without a valid key never get here: the FailedAuthLimiter counts those. The count is
 * per process: N API processes allow N times the limit.
 */
@Injectable()
export class ApiRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return isPublicRoute(this.reflector, context);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const principal = authenticated(request.context.switchToHttp().getRequest<Request>());
    // The account's override is read with its key on every request, so a change applies at once.
    const limit = principal.kind === 'account' ? (principal.account.rateLimitPerMinute ?? request.limit) : request.limit;
    if (limit === 0) return true;
    return super.handleRequest({ ...request, limit });
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = authenticated(request as unknown as Request);
    // Distinct prefixes: an account id can never name a service key's bucket.
    return principal.kind === 'account' ? `account:${principal.accountId}` : principal.keyId;
  }

  /** One bucket per key for the whole API: the library's default keys by route too, which multiplies the limit by the number of routes. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}

function authenticated(request: Request): ApiPrincipal {
  const principal = principalOf(request);
  if (!principal) throw new Error('ApiRateLimitGuard ran on a private route before ApiKeyGuard authenticated it');
  return principal;
}
