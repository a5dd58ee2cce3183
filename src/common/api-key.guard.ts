import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { attachPrincipal, type ApiPrincipal } from './api-principal.js';
import { AuthError } from './auth-error.js';
import { clientAddress, FailedAuthLimiter } from './failed-auth-limiter.js';
import { isPublicRoute } from './route-access.decorator.js';

/** Bytes of the key's digest that name it in a principal: enough to never collide among configured keys. */
const KEY_ID_BYTES = 12;

/**
 * Bearer authentication for every route not marked `@PublicRoute()`: deny by default, whatever
 * the path looks like. Keys are compared as SHA-256 digests in constant time, so neither the key
 * nor its length leaks through timing. The matched key becomes the request's principal.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Array<{ digest: Buffer; principal: ApiPrincipal }>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly failures: FailedAuthLimiter,
  ) {
    this.keys = config.apiKeys.map((key) => {
      const keyDigest = digest(key);
      return { digest: keyDigest, principal: { keyId: `service_${keyDigest.subarray(0, KEY_ID_BYTES).toString('hex')}` } };
    });
  }

  canActivate(context: ExecutionContext): boolean {
    if (isPublicRoute(this.reflector, context)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const address = clientAddress(request);
    // Refused before the key is looked at, so a blocked address cannot tell a right guess from a wrong one.
    const retryAfter = this.failures.retryAfterSeconds(address);
    if (retryAfter !== undefined) throw new AuthError('too_many_failures', 'too many requests without a valid API key from this address', retryAfter);
    try {
      attachPrincipal(request, this.authenticate(request.headers.authorization));
      return true;
    } catch (error) {
      if (error instanceof AuthError) this.failures.recordFailure(address);
      throw error;
    }
  }

  private authenticate(authorization: string | undefined): ApiPrincipal {
    // The scheme is case-insensitive (RFC 9110); every spelling resolves to the same principal.
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AuthError('missing_credentials', 'missing bearer token: send Authorization: Bearer <API key>');
    const presented = digest(match[1]!);
    let matched: ApiPrincipal | undefined;
    // Every configured key is compared, matched or not, so the time taken does not say which one matched.
    for (const key of this.keys) if (timingSafeEqual(presented, key.digest)) matched = key.principal;
    if (!matched) throw new AuthError('invalid_key', 'invalid API key');
    return matched;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
