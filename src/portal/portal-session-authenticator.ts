import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AccountPrincipal } from '../accounts/account-key-authenticator.js';
import type { ApiScope } from '../common/api-principal.js';
import { AccessError, AccessErrorCode, AuthError } from '../common/auth-error.js';
import { CSRF_HEADER, readSessionCookie } from './portal-cookie.js';
import { csrfTokenFor, isCsrfTokenOf, isSessionTokenShape, tokenDigest } from './portal-secrets.js';
import { PortalSessionRepository, type PresentedPortalSession } from './portal-session.repository.js';

/** Methods that change nothing: the only ones a cookie may make without the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const READ_ONLY_SCOPES: readonly ApiScope[] = ['read'];
const MANAGE_SCOPES: readonly ApiScope[] = ['read', 'manage'];

/** What the portal page is told about its own session (GET /portal/api/session). */
export interface PortalSessionView {
  session: PresentedPortalSession;
  /** The cookie's value, the key of the session's CSRF token. */
  sessionToken: string;
  csrfToken: string;
}

/**
 * Turns a portal session cookie into an account principal, as the AccountKeyAuthenticator does
 * for a key: looked up by digest on every request (no cache), so the session ends at its expiry
 * on every API process. It never grants `ingest`, and `manage` only to a session that is not read-only.
 */
@Injectable()
export class PortalSessionAuthenticator {
  constructor(private readonly sessions: PortalSessionRepository) {}

  /**
   * Undefined when the request carries no portal cookie. A cookie that names no live session is a
   * 401, like an invalid key; a write without the session's CSRF token is a 403 — checked even
   * for read-only sessions, whose writes the scope check refuses anyway.
   */
  async authenticate(request: Request): Promise<AccountPrincipal | undefined> {
    const view = await this.describe(request);
    if (!view) return undefined;
    if (!SAFE_METHODS.has(request.method) && !isCsrfTokenOf(view.sessionToken, headerOf(request, CSRF_HEADER))) {
      throw new AccessError(AccessErrorCode.CsrfTokenInvalid, `a write made with a portal session needs the session's CSRF token in the ${CSRF_HEADER} header`);
    }
    const { session } = view;
    return {
      kind: 'account',
      keyId: `portal_${session.id}`,
      accountId: session.account.id,
      scopes: session.readOnly ? READ_ONLY_SCOPES : MANAGE_SCOPES,
      account: session.account,
      portalSessionId: session.id,
    };
  }

  /** The live session of the request's cookie with its CSRF token; undefined without a cookie, 401 for an ended one. */
  async describe(request: Request): Promise<PortalSessionView | undefined> {
    const token = readSessionCookie(request);
    if (token === undefined) return undefined;
    const session = isSessionTokenShape(token) ? await this.sessions.findLiveSession(tokenDigest(token)) : undefined;
    if (!session) throw new AuthError('invalid_session', 'the portal session has ended: open a new portal link');
    return { session, sessionToken: token, csrfToken: csrfTokenFor(token) };
  }
}

function headerOf(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
