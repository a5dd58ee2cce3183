import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/app-config.js';

const PRODUCTION = { DATABASE_URL: 'postgres://u@db:5432/x', TEMPORAL_ADDRESS: 'temporal:7233', API_KEYS: 'k-0123456789abcdef' };
const portalOf = (env: Record<string, string>) => loadConfig({ ...PRODUCTION, ...env }, { process: 'api' }).portal;

describe('portal configuration', () => {
  it("lets nobody frame the portal and leaves Secure to the request's scheme by default", () => {
    expect(portalOf({})).toEqual({ frameAncestors: ["'none'"], forceSecureCookie: false });
  });

  it('takes origins and self, separated by spaces or commas', () => {
    expect(portalOf({ PORTAL_FRAME_ANCESTORS: "https://dashboard.example.com, 'self' https://*.example.org:8443" }).frameAncestors).toEqual([
      'https://dashboard.example.com',
      "'self'",
      'https://*.example.org:8443',
    ]);
  });

  it('refuses an entry that could end the directive or name something other than an origin', () => {
    for (const value of ["https://a.example; script-src 'unsafe-inline'", 'https://a.example/path', 'javascript:x', "'none' https://a.example", '*']) {
      expect(() => portalOf({ PORTAL_FRAME_ANCESTORS: value }), value).toThrow(ConfigError);
    }
  });

  it('makes the cookie always Secure with PORTAL_SECURE_COOKIE=true and refuses other spellings', () => {
    expect(portalOf({ PORTAL_SECURE_COOKIE: 'true' }).forceSecureCookie).toBe(true);
    expect(portalOf({ PORTAL_SECURE_COOKIE: 'false' }).forceSecureCookie).toBe(false);
    expect(() => portalOf({ PORTAL_SECURE_COOKIE: 'yes' })).toThrow(/PORTAL_SECURE_COOKIE must be true or false/);
  });
});
