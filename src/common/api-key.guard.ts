import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AccountKeyAuthenticator } from '../accounts/account-key-authenticator.js';
import { ACCOUNT_KEY_PREFIX } from '../accounts/api-key-material.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PortalSessionAuthenticator } from '../portal/portal-session-authenticator.js';
import { attachPrincipal, type ApiPrincipal } from './api-principal.js';
import { AuthError } from './auth-error.js';
import { clientAddress, FailedAuthLimiter } from './failed-auth-limiter.js';
import { isPublicRoute } from './route-access.decorator.js';

/** Bytes of the key's digest that name it in a principal: enough to never collide among configured keys. */
const KEY_ID_BYTES = 12;

/**
 * Bearer authentication for every route not marked `@PublicRoute()`: deny by default, whatever
 * the path looks like. Service keys (API_KEYS) are compared as SHA-256 digests in constant time,
 * so neither the key nor its length leaks through timing; an `xtk_` account key is looked up by
 * its digest in the database on every request (no cache), so a revoked key fails its next
 * request on every API process. A request without an Authorization header may instead carry a
 * customer portal session cookie (src/portal), which becomes an account principal the same way.
 * The matched key becomes the request's principal; what it may do
 * is decided after the rate limit, by the AccountAccessGuard.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Array<{ digest: Buffer; principal: ApiPrincipal }>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly failures: FailedAuthLimiter,
    private readonly accountKeys: AccountKeyAuthenticator,
    private readonly portalSessions: PortalSessionAuthenticator,
  ) {
    this.keys = config.apiKeys.map((key) => {
      const keyDigest = digest(key);
      return { digest: keyDigest, principal: { kind: 'service' as const, keyId: `service_${keyDigest.subarray(0, KEY_ID_BYTES).toString('hex')}` } };
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublicRoute(this.reflector, context)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const address = clientAddress(request);
    // Refused before the key is looked at, so a blocked address cannot tell a right guess from a wrong one.
    const retryAfter = this.failures.retryAfterSeconds(address);
    if (retryAfter !== undefined) throw new AuthError('too_many_failures', 'too many requests without a valid API key from this address', retryAfter);
    try {
      attachPrincipal(request, await this.authenticate(request));
      return true;
    } catch (error) {
      if (error instanceof AuthError) this.failures.recordFailure(address);
      throw error;
    }
  }

  private async authenticate(request: Request): Promise<ApiPrincipal> {
    const authorization = request.headers.authorization;
    // A key, when one is sent, decides alone: the portal's session cookie counts only on requests
    // without one, so a stale cookie in the same browser never changes what a key may do.
    if (authorization === undefined) {
      const session = await this.portalSessions.authenticate(request);
      if (session) return session;
    }
    // The scheme is case-insensitive (RFC 9110); every spelling resolves to the same principal.
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AuthError('missing_credentials', 'missing bearer token: send Authorization: Bearer <API key>');
    const token = match[1]!;
    const presented = digest(token);
    let matched: ApiPrincipal | undefined;
    // Every configured key is compared, matched or not, so the time taken does not say which one matched.
    for (const key of this.keys) if (timingSafeEqual(presented, key.digest)) matched = key.principal;
    // The database is asked by digest, an equality on 256 bits no guess comes near: its timing says nothing of a key.
    if (!matched && token.startsWith(ACCOUNT_KEY_PREFIX)) matched = await this.accountKeys.authenticate(token);
    if (!matched) throw new AuthError('invalid_key', 'invalid API key');
    return matched;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
