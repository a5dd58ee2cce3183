import { describe, expect, it } from 'vitest';
import { bearer } from './support/accounts.js';
import { createAccount, createAccountKey, createDestination } from './support/fixtures.js';
import { useTestApp, type TestApp } from './support/test-app.js';

interface Opened {
  status: number;
  location: string | null;
  setCookie: string;
  /** `xt_portal_session=…`, as a browser would send it back. */
  cookie: string;
  body: string;
}

async function mintLink(app: TestApp, body: Record<string, unknown> = {}, accountId = app.accountId, headers: Record<string, string> = {}) {
  return app.request('POST', `/v1/accounts/${accountId}/portal-links`, body, headers);
}

async function openLink(url: string): Promise<Opened> {
  const response = await fetch(url, { redirect: 'manual' });
  const setCookie = response.headers.getSetCookie().join('\n');
  return { status: response.status, location: response.headers.get('location'), setCookie, cookie: setCookie.split(';')[0]!, body: await response.text() };
}

/** A session of the app's account: the cookie and the CSRF token the page would hold. */
async function openSession(app: TestApp, options: { read_only?: boolean; accountId?: string } = {}): Promise<{ cookie: string; csrf: string; accountId: string }> {
  const accountId = options.accountId ?? app.accountId;
  const link = await mintLink(app, { read_only: options.read_only ?? false }, accountId);
  expect(link.status, JSON.stringify(link.body)).toBe(201);
  const opened = await openLink(link.body.url);
  expect(opened.status).toBe(303);
  const session = await fetch(`${app.baseUrl}/portal/api/session`, { headers: { cookie: opened.cookie } });
  expect(session.status).toBe(200);
  const { csrf_token } = (await session.json()) as { csrf_token: string };
  return { cookie: opened.cookie, csrf: csrf_token, accountId };
}

/** A request carrying only the portal cookie (and whatever headers are given), as the page sends it. */
async function withCookie(app: TestApp, cookie: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('portal links', () => {
  const app = useTestApp();

  it('mints a link with a one-time token and its expiry for a service key', async () => {
    const before = Date.now();
    const response = await mintLink(app, { expires_in: 7200, read_only: true });
    expect(response.status).toBe(201);
    expect(response.body.url).toMatch(new RegExp(`^${app.baseUrl}/portal/session\\?token=xtpl_[A-Za-z0-9_-]{43}$`));
    expect(response.body.read_only).toBe(true);
    const expiresAt = Date.parse(response.body.expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7_199_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7_201_000);
  });

  it('stores only the digest of the link token', async () => {
    const response = await mintLink(app);
    const token = new URL(response.body.url).searchParams.get('token')!;
    const rows: Array<{ link_digest: Buffer }> = await app.dataSource.query(`SELECT link_digest FROM portal_sessions WHERE account_id = $1`, [app.accountId]);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.link_digest.toString('latin1')).not.toContain(token);
    const [{ found }] = await app.dataSource.query(`SELECT count(*)::int AS found FROM portal_sessions WHERE link_digest = sha256($1::bytea)`, [Buffer.from(token)]);
    expect(found).toBe(1);
  });

  it('refuses an expires_in under one hour or over seven days', async () => {
    for (const expires_in of [3599, 604_801, 1.5]) {
      const response = await mintLink(app, { expires_in });
      expect(response.status, String(expires_in)).toBe(400);
      expect(response.body.message).toContain('expires_in');
    }
  });

  it('lets an account key with manage mint a link, and refuses one with read only', async () => {
    expect((await mintLink(app, {}, app.accountId, bearer(await createAccountKey(app, app.accountId, ['manage'])))).status).toBe(201);
    expect((await mintLink(app, {}, app.accountId, bearer(await createAccountKey(app, app.accountId, ['read'])))).status).toBe(403);
  });

  it("answers 404 to an account key minting a link for another account", async () => {
    const other = await createAccount(app);
    const response = await mintLink(app, {}, other, bearer(await createAccountKey(app, app.accountId)));
    expect(response.status).toBe(404);
  });

  it('refuses a portal session minting a link, so no session outlives its expiry', async () => {
    const { cookie, csrf } = await openSession(app);
    const response = await withCookie(app, cookie, 'POST', app.path('/portal-links'), {}, { 'x-csrf-token': csrf });
    expect(response.status).toBe(403);
  });
});

describe('opening a portal link', () => {
  const app = useTestApp();

  it('sets an HttpOnly, SameSite=Strict session cookie ending with the link, and redirects to the page', async () => {
    const link = await mintLink(app, { expires_in: 3600 });
    const opened = await openLink(link.body.url);
    expect(opened.status).toBe(303);
    expect(opened.location).toBe('/portal');
    expect(opened.setCookie).toMatch(/^xt_portal_session=xtps_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3\d{3}; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(opened.setCookie)![1]!);
    expect(Math.abs(expires - Date.parse(link.body.expires_at))).toBeLessThan(1000);
  });

  it('names the public origin and marks the cookie Secure when the requests came over https through a trusted proxy', async () => {
    const proxied = await startProxiedApp();
    try {
      const link = await mintLink(proxied.app, {}, proxied.app.accountId, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'webhooks.example.com' });
      expect(link.body.url).toMatch(/^https:\/\/webhooks\.example\.com\/portal\/session\?token=xtpl_/);
      const opened = await fetch(`${proxied.app.baseUrl}${new URL(link.body.url).pathname}${new URL(link.body.url).search}`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(opened.headers.getSetCookie()[0]).toMatch(/; Secure$/);
    } finally {
      await proxied.close();
    }
  });

  it('carries a valid theme on to the page and drops an invalid one', async () => {
    const valid = await openLink(`${(await mintLink(app)).body.url}&theme=0f766e`);
    expect(valid.location).toBe('/portal?theme=0f766e');
    const invalid = await openLink(`${(await mintLink(app)).body.url}&theme=${encodeURIComponent('red;x')}`);
    expect(invalid.location).toBe('/portal');
  });

  it('refuses a second opening of the same link with a page saying it was used', async () => {
    const link = await mintLink(app);
    expect((await openLink(link.body.url)).status).toBe(303);
    const again = await openLink(link.body.url);
    expect(again.status).toBe(410);
    expect(again.setCookie).toBe('');
    expect(again.body).toContain('This portal link was already used');
  });

  it('opens a link once when two openings race', async () => {
    const link = await mintLink(app);
    const statuses = (await Promise.all([openLink(link.body.url), openLink(link.body.url), openLink(link.body.url)])).map((opened) => opened.status).sort();
    expect(statuses).toEqual([303, 410, 410]);
  });

  it('refuses an expired link and an unknown token', async () => {
    const link = await mintLink(app);
    await app.dataSource.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1 AND opened_at IS NULL`, [app.accountId]);
    const expired = await openLink(link.body.url);
    expect(expired.status).toBe(410);
    expect(expired.body).toContain('This portal link has expired');
    const unknown = await openLink(`${app.baseUrl}/portal/session?token=xtpl_${'A'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect((await openLink(`${app.baseUrl}/portal/session`)).status).toBe(404);
  });

  it("serves /portal with a CSP that allows only the portal's own files and no framing by default", async () => {
    const response = await fetch(`${app.baseUrl}/portal`);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('portal sessions on the API', () => {
  const app = useTestApp();

  it("reads the session's account exactly like an account key with read", async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } });
    const { cookie } = await openSession(app, { read_only: true });
    const response = await withCookie(app, cookie, 'GET', app.path('/destinations'));
    expect(response.status).toBe(200);
    expect(response.body.map((d: { id: string }) => d.id)).toContain(destination.id);
  });

  it("answers 404 for another account's resources, as for keys", async () => {
    const other = await createAccount(app);
    const { cookie } = await openSession(app);
    expect((await withCookie(app, cookie, 'GET', `/v1/accounts/${other}/destinations`)).status).toBe(404);
    expect((await withCookie(app, cookie, 'GET', `/v1/accounts/${other}`)).status).toBe(404);
  });

  it('refuses routes outside the account and account administration', async () => {
    const { cookie } = await openSession(app);
    expect((await withCookie(app, cookie, 'GET', '/v1/accounts')).status).toBe(403);
    expect((await withCookie(app, cookie, 'GET', app.path('/api-keys'))).status).toBe(403);
  });

  it("accepts a write carrying the session's CSRF token", async () => {
    const { cookie, csrf } = await openSession(app);
    const response = await withCookie(app, cookie, 'POST', app.path('/destinations'), { name: 'from the portal', url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } }, { 'x-csrf-token': csrf });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  });

  it('refuses a write made with the cookie without the CSRF token, or with another session’s', async () => {
    const { cookie } = await openSession(app);
    const other = await openSession(app);
    const body = { name: 'forged', url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } };
    const missing = await withCookie(app, cookie, 'POST', app.path('/destinations'), body);
    expect(missing.status).toBe(403);
    expect(missing.body.message).toContain('x-csrf-token');
    expect((await withCookie(app, cookie, 'POST', app.path('/destinations'), body, { 'x-csrf-token': other.csrf })).status).toBe(403);
    const listed = await app.request('GET', app.path('/destinations'));
    expect(listed.body.map((d: { name: string }) => d.name)).not.toContain('forged');
  });

  it('refuses every write of a read-only session with 403, even with its CSRF token', async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } });
    const { cookie, csrf } = await openSession(app, { read_only: true });
    const headers = { 'x-csrf-token': csrf };
    expect((await withCookie(app, cookie, 'POST', app.path(`/destinations/${destination.id}/pause`), undefined, headers)).status).toBe(403);
    expect((await withCookie(app, cookie, 'PATCH', app.path(`/destinations/${destination.id}`), { enabled: false }, headers)).status).toBe(403);
    expect((await withCookie(app, cookie, 'POST', app.path('/events'), { id: 'e1', canonical: 'deposit', uid: 'u1', occurred_at_ms: 1 }, headers)).status).toBe(403);
    expect((await app.request('GET', app.path(`/destinations/${destination.id}`))).body).toMatchObject({ enabled: true, paused: false });
  });

  it('refuses ingest even to a manage session: a portal never sends events', async () => {
    const { cookie, csrf } = await openSession(app);
    const response = await withCookie(app, cookie, 'POST', app.path('/events'), { id: 'e2', canonical: 'deposit', uid: 'u1', occurred_at_ms: 1 }, { 'x-csrf-token': csrf });
    expect(response.status).toBe(403);
  });

  it('refuses a session once it has expired', async () => {
    const { cookie } = await openSession(app);
    expect((await withCookie(app, cookie, 'GET', app.path('/destinations'))).status).toBe(200);
    await app.dataSource.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1`, [app.accountId]);
    expect((await withCookie(app, cookie, 'GET', app.path('/destinations'))).status).toBe(401);
    expect((await withCookie(app, cookie, 'GET', '/portal/api/session')).status).toBe(401);
  });

  it("ends the account's sessions when the account is deleted", async () => {
    const accountId = await createAccount(app);
    const { cookie } = await openSession(app, { accountId });
    expect((await withCookie(app, cookie, 'GET', `/v1/accounts/${accountId}/destinations`)).status).toBe(200);
    expect((await app.request('DELETE', `/v1/accounts/${accountId}`)).status).toBe(204);
    expect((await withCookie(app, cookie, 'GET', `/v1/accounts/${accountId}/destinations`)).status).toBe(401);
    const [{ n }] = await app.dataSource.query(`SELECT count(*)::int AS n FROM portal_sessions WHERE account_id = $1`, [accountId]);
    expect(n).toBe(0);
  });

  it('lets a bearer key decide alone when a request also carries a portal cookie', async () => {
    const response = await app.request('GET', app.path('/destinations'), undefined, { cookie: `xt_portal_session=xtps_${'B'.repeat(43)}` });
    expect(response.status).toBe(200);
  });

  it('answers 401 to a made-up session cookie', async () => {
    expect((await withCookie(app, `xt_portal_session=xtps_${'C'.repeat(43)}`, 'GET', app.path('/destinations'))).status).toBe(401);
    expect((await withCookie(app, 'xt_portal_session=nonsense', 'GET', app.path('/destinations'))).status).toBe(401);
  });
});

describe('destination stats', () => {
  const app = useTestApp();

  it('counts a destination’s deliveries per hour by outcome over the window', async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } });
    const response = await app.request('GET', app.path(`/destinations/${destination.id}/stats?hours=168`));
    expect(response.status).toBe(200);
    expect(response.body.buckets).toHaveLength(168);
    expect(response.body.success_rate).toBeNull();
    expect(response.body.totals).toMatchObject({ sent: 0, failed: 0, open: 0, other: 0 });
  });

  it("answers 404 for another account's destination and 400 for hours out of range", async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/x', event_map: { deposit: 'Purchase' } });
    const other = await createAccount(app);
    expect((await app.request('GET', `/v1/accounts/${other}/destinations/${destination.id}/stats`)).status).toBe(404);
    expect((await app.request('GET', app.path(`/destinations/${destination.id}/stats?hours=0`))).status).toBe(400);
    expect((await app.request('GET', app.path(`/destinations/${destination.id}/stats?hours=721`))).status).toBe(400);
  });
});

describe('an embeddable portal', () => {
  const app = useTestApp({ env: { PORTAL_FRAME_ANCESTORS: 'https://dashboard.example.com' } });

  it('names the configured frame ancestors and sets a partitioned SameSite=None; Secure cookie that works inside their frame', async () => {
    const page = await fetch(`${app.baseUrl}/portal`);
    expect(page.headers.get('content-security-policy')).toContain('frame-ancestors https://dashboard.example.com');
    expect(page.headers.get('x-frame-options')).toBeNull();
    const opened = await openLink((await mintLink(app)).body.url);
    expect(opened.setCookie).toMatch(/; HttpOnly; SameSite=None; Secure; Partitioned$/);
  });
});

/** The app behind a trusted proxy (TRUST_PROXY=loopback), so X-Forwarded-Proto counts. */
async function startProxiedApp(): Promise<{ app: TestApp; close: () => Promise<void> }> {
  const { startTestApp } = await import('./support/test-app.js');
  const app = await startTestApp({ env: { TRUST_PROXY: 'loopback' }, worker: false });
  return { app, close: () => app.close() };
}
