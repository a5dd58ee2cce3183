import type { Request } from 'express';
import type { TenantAccountContext } from './tenant-account.js';

/** What an account key may do: `ingest` clicks and events, `read` every GET, `manage` destinations and delivery actions. */
export const API_SCOPES = ['ingest', 'read', 'manage'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Who a request authenticated as; attached by the ApiKeyGuard, read by the rate limiter and the routes. */
export type ApiPrincipal =
  | {
      /** A key of API_KEYS: every route, every account. */
      readonly kind: 'service';
      /** `service_` and the first 12 bytes of the key's SHA-256, hex: stable, non-secret, safe to log. */
      readonly keyId: string;
    }
  | {
      /** A key created through the API for one account, limited to its scopes. */
      readonly kind: 'account';
      /** The key's id (api_keys.id). */
      readonly keyId: string;
      readonly accountId: string;
      readonly scopes: readonly ApiScope[];
      /**
       * The key's account as it stood when this request looked the key up (one joined read), so
       * the rate limiter and the access guard need no second read of their own.
       */
      readonly account: TenantAccountContext;
      /**
       * Set when the request came from a customer portal session (its cookie) rather than a key:
       * the same account and scopes rules apply, but every write must carry the session's CSRF
       * token, and routes marked `@KeysOnly()` are refused.
       */
      readonly portalSessionId?: string;
    };

/** A WeakMap rather than a request property: nothing serialises or logs it by accident, and it dies with the request. */
const principals = new WeakMap<Request, ApiPrincipal>();

export function attachPrincipal(request: Request, principal: ApiPrincipal): void {
  principals.set(request, principal);
}

/** Undefined on public routes and before authentication. */
export function principalOf(request: Request): ApiPrincipal | undefined {
  return principals.get(request);
}
