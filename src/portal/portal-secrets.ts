import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Marks the one-time token of a portal link, so a leaked one is recognisable in a scan. */
const LINK_TOKEN_PREFIX = 'xtpl_';
/** Marks a portal session cookie's value. */
const SESSION_TOKEN_PREFIX = 'xtps_';
/** 256 bits: guessing is hopeless, so a plain (unsalted, fast) digest is enough to store it. */
const TOKEN_RANDOM_BYTES = 32;
const LINK_TOKEN = /^xtpl_[A-Za-z0-9_-]{43}$/;
const SESSION_TOKEN = /^xtps_[A-Za-z0-9_-]{43}$/;
/** What the CSRF token is derived for: a fixed label, so the token is an HMAC of nothing the client chose. */
const CSRF_LABEL = 'xtracker portal csrf v1';

export interface PortalSecret {
  /** Given to the caller once (in the link, or in the cookie), never stored. */
  token: string;
  /** SHA-256 of the token: what portal_sessions keeps. */
  digest: Buffer;
}

export function generateLinkToken(): PortalSecret {
  return material(LINK_TOKEN_PREFIX);
}

export function generateSessionToken(): PortalSecret {
  return material(SESSION_TOKEN_PREFIX);
}

/** Anything of another shape cannot be a token we issued: refused without touching the database. */
export function isLinkTokenShape(token: string): boolean {
  return LINK_TOKEN.test(token);
}

export function isSessionTokenShape(token: string): boolean {
  return SESSION_TOKEN.test(token);
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The session's CSRF token: an HMAC keyed by the session cookie's value, so it needs no storage,
 * is bound to this session alone (a token of another session, or a cookie planted by a sibling
 * domain, never matches), and cannot be computed by a page that cannot read the HttpOnly cookie.
 * The portal page learns it from GET /portal/api/session, which only a same-origin script can read.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update(CSRF_LABEL).digest('base64url');
}

/** Constant time: the comparison's duration says nothing about how much of a guess was right. */
export function isCsrfTokenOf(sessionToken: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(tokenDigest(presented), tokenDigest(csrfTokenFor(sessionToken)));
}

function material(prefix: string): PortalSecret {
  const token = `${prefix}${randomBytes(TOKEN_RANDOM_BYTES).toString('base64url')}`;
  return { token, digest: tokenDigest(token) };
}
