import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { principalOf } from '../common/api-principal.js';
import { AccessError, AccessErrorCode } from '../common/auth-error.js';
import { ACCOUNT_ID_PARAM, isPublicRoute, routeRules } from '../common/route-access.decorator.js';
import { attachTenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { ACCOUNT_ID_RULE, isAccountId } from './account-id.js';
import { AccountError, AccountErrorCode, accountNotFound } from './account.errors.js';
import { AccountRepository } from './account.repository.js';

/**
 * What an authenticated key may do, decided here and nowhere else; runs after the ApiKeyGuard
 * (which identified the key) and the rate limiter (so refused requests count too).
 *
 * - Service keys: every route, every account.
 * - Account keys: only routes under `/v1/accounts/:account_id` of their own account, within their
 *   scopes. A customer portal session is an account principal too (scopes read, + manage unless
 *   read-only), kept off `@KeysOnly()` routes. Another account's path answers the same 404 as an account that does not exist, before
 *   anything about that account is read, so nothing tells the two apart.
 * - On every route under `:account_id` the account is loaded and attached (`@TenantAccount()`);
 *   ingest (scope `ingest`) for a disabled account is 403 whoever asks.
 */
@Injectable()
export class AccountAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accounts: AccountRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublicRoute(this.reflector, context)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const principal = principalOf(request);
    if (!principal) throw new Error('AccountAccessGuard ran on a private route before ApiKeyGuard authenticated it');
    const rules = routeRules(this.reflector, context, request.method);
    const accountId: unknown = request.params?.[ACCOUNT_ID_PARAM];

    if (accountId === undefined) {
      // Outside any account (GET /v1/accounts): nothing there belongs to one account's key.
      if (principal.kind === 'account') throw serviceKeyRequired();
      return true;
    }
    // The pattern is public: saying an id is malformed reveals nothing about any account.
    if (!isAccountId(accountId)) throw new AccountError(AccountErrorCode.InvalidId, ACCOUNT_ID_RULE);

    let account: TenantAccountContext | undefined;
    if (principal.kind === 'account') {
      // Before the foreign check: creating is refused for every id alike, so it cannot probe ids.
      if (rules.createsAccount) throw serviceKeyRequired();
      if (accountId !== principal.accountId) throw accountNotFound(accountId);
      if (rules.serviceOnly) throw serviceKeyRequired();
      if (rules.keysOnly && principal.portalSessionId !== undefined) {
        throw new AccessError(AccessErrorCode.KeyRequired, 'this route needs an API key: a portal session may not call it');
      }
      if (!principal.scopes.includes(rules.scope)) {
        throw new AccessError(AccessErrorCode.ScopeMissing, `this API key lacks the scope "${rules.scope}" this route needs`);
      }
      account = principal.account;
    } else {
      account = await this.accounts.findContext(accountId);
      if (!account) {
        if (rules.createsAccount) return true;
        throw accountNotFound(accountId);
      }
    }
    // Reads and management go on, so the account's owner can still look at and fix its setup.
    if (rules.scope === 'ingest' && !account.enabled) throw new AccountError(AccountErrorCode.Disabled, `account ${account.id} is disabled`);
    attachTenantAccount(request, account);
    return true;
  }
}

function serviceKeyRequired(): AccessError {
  return new AccessError(AccessErrorCode.ServiceKeyRequired, 'this route needs a service key: account keys may only use their own account\'s routes, within their scopes');
}
