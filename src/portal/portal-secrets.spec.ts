import { describe, expect, it } from 'vitest';
import { csrfTokenFor, generateLinkToken, generateSessionToken, isCsrfTokenOf, isLinkTokenShape, isSessionTokenShape, tokenDigest } from './portal-secrets.js';

describe('portal secrets', () => {
  it('issues link and session tokens of their own recognisable shapes, with their SHA-256 digests', () => {
    const link = generateLinkToken();
    const session = generateSessionToken();
    expect(isLinkTokenShape(link.token)).toBe(true);
    expect(isSessionTokenShape(session.token)).toBe(true);
    expect(isLinkTokenShape(session.token)).toBe(false);
    expect(isSessionTokenShape(link.token)).toBe(false);
    expect(link.digest.equals(tokenDigest(link.token))).toBe(true);
  });

  it("accepts a session's own CSRF token only", () => {
    const one = generateSessionToken().token;
    const other = generateSessionToken().token;
    expect(isCsrfTokenOf(one, csrfTokenFor(one))).toBe(true);
    expect(isCsrfTokenOf(one, csrfTokenFor(other))).toBe(false);
    expect(isCsrfTokenOf(one, undefined)).toBe(false);
    expect(isCsrfTokenOf(one, '')).toBe(false);
  });
});
