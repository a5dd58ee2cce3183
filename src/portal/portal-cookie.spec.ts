import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { readSessionCookie, sessionSetCookie } from './portal-cookie.js';
import { themeQuery } from './portal-theme.js';

const request = (fields: { cookie?: string; secure?: boolean }) => ({ headers: { cookie: fields.cookie }, secure: fields.secure ?? false }) as unknown as Request;
const NOW = Date.parse('2026-12-01T12:00:00Z');
const EXPIRES = new Date(NOW + 3_600_000);

describe('the portal session cookie', () => {
  it('is read by its name among other cookies', () => {
    expect(readSessionCookie(request({ cookie: 'a=1; xt_portal_session=xtps_abc; b=2' }))).toBe('xtps_abc');
    expect(readSessionCookie(request({ cookie: 'a=1' }))).toBeUndefined();
    expect(readSessionCookie(request({}))).toBeUndefined();
  });

  it('is HttpOnly and SameSite=Strict, and Secure only over https or when forced', () => {
    const none = { frameAncestors: ["'none'"], forceSecureCookie: false };
    expect(sessionSetCookie('xtps_t', EXPIRES, request({}), none, NOW)).toBe(
      'xt_portal_session=xtps_t; Path=/; Max-Age=3600; Expires=Tue, 01 Dec 2026 13:00:00 GMT; HttpOnly; SameSite=Strict',
    );
    expect(sessionSetCookie('xtps_t', EXPIRES, request({ secure: true }), none, NOW)).toMatch(/; SameSite=Strict; Secure$/);
    expect(sessionSetCookie('xtps_t', EXPIRES, request({}), { ...none, forceSecureCookie: true }, NOW)).toMatch(/; Secure$/);
    expect(sessionSetCookie('xtps_t', EXPIRES, request({}), { frameAncestors: ["'self'"], forceSecureCookie: false }, NOW)).toMatch(/; SameSite=Strict$/);
  });

  it('is SameSite=None, Secure and partitioned when other origins may frame the portal', () => {
    expect(sessionSetCookie('xtps_t', EXPIRES, request({}), { frameAncestors: ['https://dash.example.com'], forceSecureCookie: false }, NOW)).toMatch(
      /; HttpOnly; SameSite=None; Secure; Partitioned$/,
    );
  });
});

describe('the theme parameter', () => {
  it('passes 3 or 6 hex digits and drops anything else', () => {
    expect(themeQuery('0f766e')).toBe('?theme=0f766e');
    expect(themeQuery('abc')).toBe('?theme=abc');
    for (const bad of ['#0f766e', '0f76', 'red', '0f766e;x', undefined, ['abc']]) expect(themeQuery(bad), String(bad)).toBe('');
  });
});
