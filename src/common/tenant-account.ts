import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/**
 * The account a tenant route (a path under /v1/accounts/:account_id) acts on, resolved by the
 * ApiKeyGuard: it exists, and the caller may act on it. Routes take it with `@TenantAccount()`.
 */
export interface TenantAccountContext {
  id: string;
  enabled: boolean;
  /** Per-account overrides of the configured limits; null = the configured default. */
  maxDestinations: number | null;
  rateLimitPerMinute: number | null;
  /** The account's defaults for its destinations' traffic limits; null = the configured default. */
  defaultRatePerSecond: number | null;
  defaultMaxInFlight: number | null;
}

const accounts = new WeakMap<Request, TenantAccountContext>();

export function attachTenantAccount(request: Request, account: TenantAccountContext): void {
  accounts.set(request, account);
}

export function tenantAccountOf(request: Request): TenantAccountContext | undefined {
  return accounts.get(request);
}

/** The request's account; a route that asks for it without an `:account_id` in its path is a bug. */
export const TenantAccount = createParamDecorator((_data: unknown, context: ExecutionContext): TenantAccountContext => {
  const account = tenantAccountOf(context.switchToHttp().getRequest<Request>());
  if (!account) throw new Error('@TenantAccount() used on a route the guard did not resolve an account for');
  return account;
});
