import type { Request } from 'express';

/** Who a request authenticated as; attached by the ApiKeyGuard, read by the rate limiter. */
export interface ApiPrincipal {
  /**
   * Stable, non-secret id of the configured key that matched: `service_` and the first 12 bytes of
   * the key's SHA-256, hex. Every spelling of the Authorization header that carries the key maps to it.
   */
  readonly keyId: string;
}

/** A WeakMap rather than a request property: nothing serialises or logs it by accident, and it dies with the request. */
const principals = new WeakMap<Request, ApiPrincipal>();

export function attachPrincipal(request: Request, principal: ApiPrincipal): void {
  principals.set(request, principal);
}

/** Undefined on public routes and before authentication. */
export function principalOf(request: Request): ApiPrincipal | undefined {
  return principals.get(request);
}
