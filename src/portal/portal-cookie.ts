import type { Request } from 'express';
import type { PortalConfig } from '../config/app-config.js';

export const PORTAL_SESSION_COOKIE = 'xt_portal_session';
/** The header every write made with the session cookie must carry (the session's CSRF token). */
export const CSRF_HEADER = 'x-csrf-token';

/** The session cookie's value, or undefined when the request carries none. */
export function readSessionCookie(request: Request): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === PORTAL_SESSION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/**
 * Whether the portal may be framed by another origin. The cookie's SameSite follows from it: a
 * page framed by another site gets neither Strict nor Lax cookies on its own requests, only
 * `SameSite=None` (which browsers accept only with Secure), partitioned (CHIPS) so that the
 * cookie lives under the embedding site alone instead of being a third-party cookie.
 */
export function isFramedByOtherOrigins(config: PortalConfig): boolean {
  return config.frameAncestors.some((source) => source !== "'none'" && source !== "'self'");
}

/**
 * The Set-Cookie value of a session. HttpOnly (no script ever reads it), Path=/ (the page calls
 * the /v1 API with it), expiring with the session. SameSite=Strict unless the portal is embedded
 * by other origins (see isFramedByOtherOrigins). Strict still works for a link opened from an
 * email or another site: the page itself is public, and its API calls are same-site requests
 * made by the page, which do carry Strict cookies. Secure over https (as Express sees it, so
 * behind TRUST_PROXY too), when PORTAL_SECURE_COOKIE=true, and always with SameSite=None.
 */
export function sessionSetCookie(token: string, expiresAt: Date, request: Request, config: PortalConfig, now = Date.now()): string {
  const framed = isFramedByOtherOrigins(config);
  const secure = framed || config.forceSecureCookie || request.secure;
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000));
  return [
    `${PORTAL_SESSION_COOKIE}=${token}`,
    'Path=/',
    `Max-Age=${maxAge}`,
    `Expires=${expiresAt.toUTCString()}`,
    'HttpOnly',
    framed ? 'SameSite=None' : 'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
    ...(framed ? ['Partitioned'] : []),
  ].join('; ');
}
