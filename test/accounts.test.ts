import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiKeyRepository } from '../src/accounts/api-key.repository.js';
import { OpenDeliveries } from '../src/deliveries/open-deliveries.js';
import { bearer, startSecondApi, type SecondApi } from './support/accounts.js';
import { captureLogs } from './support/captured-logs.js';
import { createAccount, createAccountKey, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

const logLines = captureLogs();

/** An account id no test has used: accounts are the subject here, so each test makes its own. */
function freshId(): string {
  return `acct-${randomBytes(6).toString('hex')}`;
}

async function putAccount(app: TestApp, id: string, body: Record<string, unknown> = {}): Promise<any> {
  const response = await app.request('PUT', `/v1/accounts/${id}`, { name: `account ${id}`, enabled: true, ...body });
  expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
  return response.body;
}

async function createKey(app: TestApp, accountId: string, body: Record<string, unknown> = {}): Promise<any> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/api-keys`, { name: 'test key', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

function destinationFields(): Record<string, unknown> {
  // Loopback is allowed in tests (WEBHOOK_ALLOWED_CIDRS); nothing is delivered in this file.
  return { name: 'accounts test', url: 'http://127.0.0.1:9/hook', event_map: { contact: 'Lead' }, headers: { 'X-Shared-Secret': `hdr-${randomBytes(8).toString('hex')}` } };
}

describe('the accounts resource', () => {
  const app = useTestApp();

  it('creates an account with PUT (201), updates it with the same PUT (200) and reads it back', async () => {
    const id = freshId();
    const created = await app.request('PUT', `/v1/accounts/${id}`, { name: 'Acme Media', enabled: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, name: 'Acme Media', enabled: true });
    const updated = await app.request('PUT', `/v1/accounts/${id}`, { name: 'Acme Media Ltd', enabled: true });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'Acme Media Ltd', created_at: created.body.created_at });
    expect((await app.request('GET', `/v1/accounts/${id}`)).body).toEqual(updated.body);
  });

  it('accepts every character of the id rule and the full 64 characters', async () => {
    for (const id of ['A-z.0_9:x', 'a'.repeat(64)]) {
      expect((await app.request('PUT', `/v1/accounts/${id}`, { name: 'edge' })).status, id).toBe(201);
    }
  });

  it('answers 404 naming the account for an unknown account, on the account and on every route under it', async () => {
    const id = freshId();
    for (const [method, path] of [
      ['GET', `/v1/accounts/${id}`],
      ['DELETE', `/v1/accounts/${id}`],
      ['GET', `/v1/accounts/${id}/api-keys`],
      ['GET', `/v1/accounts/${id}/destinations`],
      ['GET', `/v1/accounts/${id}/deliveries`],
    ] as const) {
      const answer = await app.request(method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.message).toBe(`account ${id} not found`);
    }
  });

  it('refuses an invalid account id with a 400 naming the rule: 65 characters, a slash, a space, non-ASCII, and other characters', async () => {
    for (const bad of ['a'.repeat(65), 'a/b', 'a b', 'café', 'ünï', '%', 'a+b', 'x\u0000y']) {
      for (const [method, suffix] of [['PUT', ''], ['GET', ''], ['GET', '/destinations'], ['POST', '/api-keys']] as const) {
        const path = `/v1/accounts/${encodeURIComponent(bad)}${suffix}`;
        const answer = await app.request(method, path, method === 'GET' ? undefined : { name: 'bad' });
        expect(answer.status, `${method} ${path}`).toBe(400);
        expect(answer.body.message, `${method} ${path}`).toMatch(/account_id must be 1 to 64 characters of A-Z, a-z, 0-9/);
      }
    }
    expect((await app.dataSource.query(`SELECT count(*)::int AS n FROM accounts WHERE name = 'bad'`))[0].n).toBe(0);
  });

  it('refuses a PUT without a name, with null or unknown fields, naming the field', async () => {
    const id = freshId();
    for (const [body, field] of [
      [{ enabled: true }, 'name'],
      [{ name: 'x', enabled: null }, 'enabled'],
      [{ name: 'x', enabled: 'yes' }, 'enabled'],
      [{ name: 'x', owner: 'me' }, 'owner'],
      [{ name: 'x', max_destinations: 0 }, 'max_destinations'],
      [{ name: 'x', rate_limit_per_minute: -1 }, 'rate_limit_per_minute'],
    ] as const) {
      const answer = await app.request('PUT', `/v1/accounts/${id}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.message).toContain(field);
    }
    expect((await app.request('GET', `/v1/accounts/${id}`)).status).toBe(404);
  });

  it('shows the configured defaults as the limits of an account, a service key sets overrides, null restores the defaults', async () => {
    const id = freshId();
    const defaults = await putAccount(app, id);
    expect(defaults).toMatchObject({ rate_limit_per_minute: app.config.rateLimitPerMinute, max_destinations: app.config.limits.maxDestinations });
    expect(await putAccount(app, id, { rate_limit_per_minute: 120, max_destinations: 3 })).toMatchObject({ rate_limit_per_minute: 120, max_destinations: 3 });
    // Left out, the overrides stay: a backend syncing names never resets an operator's limits.
    expect(await putAccount(app, id, { name: 'renamed' })).toMatchObject({ name: 'renamed', rate_limit_per_minute: 120, max_destinations: 3 });
    expect(await putAccount(app, id, { rate_limit_per_minute: null, max_destinations: null })).toMatchObject({
      rate_limit_per_minute: defaults.rate_limit_per_minute,
      max_destinations: defaults.max_destinations,
    });
  });

  it('keeps enabled as it is when a PUT leaves it out, and creates an account enabled', async () => {
    const id = freshId();
    expect((await app.request('PUT', `/v1/accounts/${id}`, { name: 'x' })).body.enabled).toBe(true);
    await putAccount(app, id, { enabled: false });
    expect((await app.request('PUT', `/v1/accounts/${id}`, { name: 'y' })).body.enabled).toBe(false);
  });

  it('pages through all accounts in id order with limit and next_cursor, without repeats or gaps', async () => {
    const prefix = `page-${randomBytes(4).toString('hex')}`;
    const ids = Array.from({ length: 7 }, (_, index) => `${prefix}-${index}`);
    for (const id of [...ids].reverse()) await putAccount(app, id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await app.request('GET', `/v1/accounts?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...answer.body.items.map((item: { id: string }) => item.id));
      cursor = answer.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => id.startsWith(prefix))).toEqual(ids);
    expect(seen).toContain(app.accountId);
  });

  it('answers 400 for a tampered cursor and for a limit outside 1-200', async () => {
    const forged = Buffer.from(JSON.stringify(['a b'])).toString('base64url');
    for (const query of ['cursor=not-a-cursor', `cursor=${forged}`, `cursor=${Buffer.from('[1]').toString('base64url')}`, 'limit=0', 'limit=201', 'limit=x']) {
      expect((await app.request('GET', `/v1/accounts?${query}`)).status, query).toBe(400);
    }
    expect((await app.request('GET', '/v1/accounts?limit=200')).status).toBe(200);
  });

  it('wakes the held deliveries of an account when a PUT enables it again, and only then', async () => {
    const id = freshId();
    const wake = vi.spyOn(app.nest.get(OpenDeliveries), 'wake');
    try {
      await putAccount(app, id, { enabled: true });
      await putAccount(app, id, { enabled: false });
      await putAccount(app, id, { enabled: false });
      expect(wake).not.toHaveBeenCalled();
      await putAccount(app, id, { enabled: true });
      await putAccount(app, id, { enabled: true });
      expect(wake.mock.calls).toEqual([[id]]);
    } finally {
      wake.mockRestore();
    }
  });
  it('answers 200 to a PUT that enables the account while Temporal is unreachable: the held deliveries resume at their own next check', async () => {
    const id = freshId();
    await putAccount(app, id, { enabled: false });
    // What the Temporal client throws when the frontend cannot be reached (as in src/deliveries/delivery-dispatcher.spec.ts).
    const unreachable = Object.assign(new Error('14 UNAVAILABLE: no connection established'), { code: 14, details: 'no connection established', metadata: {} });
    const wake = vi.spyOn(app.nest.get(OpenDeliveries), 'wake').mockRejectedValue(unreachable);
    try {
      const enabled = await app.request('PUT', `/v1/accounts/${id}`, { name: 'back', enabled: true });
      expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
      expect(enabled.body.enabled).toBe(true);
      expect(wake).toHaveBeenCalledTimes(1);
    } finally {
      wake.mockRestore();
    }
  });
});

describe('account API keys', () => {
  const app = useTestApp();

  it('creates a key shown once as xtk_ and 32 random bytes, stored only as its SHA-256 digest', async () => {
    const accountId = await createAccount(app);
    const created = await createKey(app, accountId, { name: 'tracker', scopes: ['ingest'] });
    expect(created).toEqual({ id: expect.any(String), key: expect.stringMatching(/^xtk_[A-Za-z0-9_-]{43}$/), name: 'tracker', scopes: ['ingest'], prefix: created.key.slice(0, 12), created_at: expect.any(String) });
    const [row] = await app.dataSource.query(`SELECT digest, row_to_json(k)::text AS whole FROM api_keys k WHERE id = $1`, [created.id]);
    expect(Buffer.from(row.digest).equals(createHash('sha256').update(created.key).digest())).toBe(true);
    expect(row.whole).not.toContain(created.key.slice(4));
  });

  it('lists keys with prefix, scopes and dates, and never the key or its digest', async () => {
    const accountId = await createAccount(app);
    const first = await createKey(app, accountId, { name: 'first' });
    const second = await createKey(app, accountId, { name: 'second', scopes: ['read'] });
    const listing = await app.request('GET', `/v1/accounts/${accountId}/api-keys`);
    expect(listing.status).toBe(200);
    expect(listing.body).toEqual([
      { id: first.id, name: 'first', scopes: ['ingest', 'read', 'manage'], prefix: first.prefix, created_at: first.created_at, last_used_at: null },
      { id: second.id, name: 'second', scopes: ['read'], prefix: second.prefix, created_at: second.created_at, last_used_at: null },
    ]);
    const text = JSON.stringify(listing.body);
    for (const { key } of [first, second]) {
      const digest = createHash('sha256').update(key).digest();
      for (const form of [key, key.slice(12), digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')]) expect(text).not.toContain(form);
    }
  });

  it('defaults to every scope and stores scopes in one order, whatever the request gives', async () => {
    const accountId = await createAccount(app);
    expect((await createKey(app, accountId)).scopes).toEqual(['ingest', 'read', 'manage']);
    expect((await createKey(app, accountId, { scopes: ['manage', 'ingest'] })).scopes).toEqual(['ingest', 'manage']);
  });

  it('refuses empty, repeated, unknown or null scopes and a missing name with a 400', async () => {
    const accountId = await createAccount(app);
    for (const body of [{ name: 'k', scopes: [] }, { name: 'k', scopes: ['read', 'read'] }, { name: 'k', scopes: ['admin'] }, { name: 'k', scopes: null }, { name: 'k', scopes: 'read' }, { scopes: ['read'] }]) {
      const answer = await app.request('POST', `/v1/accounts/${accountId}/api-keys`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    expect((await app.request('GET', `/v1/accounts/${accountId}/api-keys`)).body).toEqual([]);
  });

  it('records when a key was last used, and keeps that time for a minute', async () => {
    const accountId = await createAccount(app);
    const { id, key } = await createKey(app, accountId, { scopes: ['read'] });
    const lastUsed = async () => (await app.request('GET', `/v1/accounts/${accountId}/api-keys`)).body.find((listed: { id: string }) => listed.id === id).last_used_at;
    expect(await lastUsed()).toBeNull();
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(200);
    const first = await lastUsed();
    expect(Date.parse(first)).toBeGreaterThan(Date.now() - 60_000);
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(200);
    expect(await lastUsed()).toBe(first);
  });

  it('writes the last use of a key once for many requests, not once per request, even while the first write is under way', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId, ['read']);
    const keys = app.nest.get(ApiKeyRepository);
    const writeForReal = keys.recordUse.bind(keys);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first write waits, so every later request still reads "never used" from the database.
    const recordUse = vi.spyOn(keys, 'recordUse').mockImplementation(async (id, interval) => {
      await held;
      return writeForReal(id, interval);
    });
    try {
      const first = app.request('GET', `/v1/accounts/${accountId}`, undefined, bearer(key));
      await eventually(() => (recordUse.mock.calls.length === 1 ? true : undefined), 10_000, 'the first write');
      const later = Array.from({ length: 4 }, () => app.request('GET', `/v1/accounts/${accountId}`, undefined, bearer(key)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      release();
      expect((await Promise.all([first, ...later])).map(({ status }) => status)).toEqual([200, 200, 200, 200, 200]);
      for (let i = 0; i < 3; i++) expect((await app.request('GET', `/v1/accounts/${accountId}`, undefined, bearer(key))).status).toBe(200);
      expect(recordUse).toHaveBeenCalledTimes(1);
    } finally {
      release();
      recordUse.mockRestore();
    }
  });

  it('lets the database keep a recorded use for a minute, whichever process writes again', async () => {
    const accountId = await createAccount(app);
    const { id } = await createKey(app, accountId);
    const keys = app.nest.get(ApiKeyRepository);
    const lastUsed = async () => (await app.dataSource.query(`SELECT last_used_at::text AS at FROM api_keys WHERE id = $1`, [id]))[0].at;
    await keys.recordUse(id, 60);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await keys.recordUse(id, 60);
    expect(await lastUsed()).toBe(first);
  });

  it('answers 404 to revoking a key that does not exist or belongs to another account, and 400 to an id that is no UUID', async () => {
    const [mine, other] = [await createAccount(app), await createAccount(app)];
    const foreign = await createKey(app, other);
    expect((await app.request('DELETE', `/v1/accounts/${mine}/api-keys/${randomUUID()}`)).status).toBe(404);
    expect((await app.request('DELETE', `/v1/accounts/${mine}/api-keys/${foreign.id}`)).status).toBe(404);
    expect((await app.request('DELETE', `/v1/accounts/${mine}/api-keys/nope`)).status).toBe(400);
    expect((await app.request('GET', `/v1/accounts/${other}`, undefined, bearer(foreign.key))).status).toBe(200);
  });

  it('refuses a malformed or unknown xtk_ key with 401, like any invalid key', async () => {
    const accountId = await createAccount(app);
    const { key } = await createKey(app, accountId);
    for (const token of [`xtk_${randomBytes(32).toString('base64url')}`, `${key}x`, key.slice(0, -1), 'xtk_', `xtk_${'A'.repeat(43)}`]) {
      const answer = await app.request('GET', `/v1/accounts/${accountId}`, undefined, bearer(token));
      expect(answer.status, token.slice(0, 8)).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('never writes an account key or its digest to the logs', async () => {
    const accountId = await createAccount(app);
    const created = await createKey(app, accountId);
    await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(created.key));
    await app.request('GET', `/v1/accounts/${app.accountId}/destinations`, undefined, bearer(created.key));
    await app.request('DELETE', `/v1/accounts/${accountId}/api-keys/${created.id}`);
    await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(created.key));
    const digest = createHash('sha256').update(created.key).digest();
    const logs = logLines.join('\n');
    expect(logs).toContain(created.id);
    for (const form of [created.key.slice(4), digest.toString('hex'), digest.toString('base64')]) expect(logs).not.toContain(form);
  });
});

describe('what an account key may do', () => {
  const app = useTestApp();
  let own: string;
  let other: string;
  const keys: Record<'ingest' | 'read' | 'manage' | 'all' | 'other', string> = { ingest: '', read: '', manage: '', all: '', other: '' };

  beforeAll(async () => {
    own = await createAccount(app);
    other = await createAccount(app);
    for (const scope of ['ingest', 'read', 'manage'] as const) keys[scope] = await createAccountKey(app, own, [scope]);
    keys.all = await createAccountKey(app, own);
    keys.other = await createAccountKey(app, other);
  });

  it('lets an ingest key post clicks and events to its own account: never a 403', async () => {
    const click = await app.request('POST', `/v1/accounts/${own}/clicks`, { uid: uniqueId('u') }, bearer(keys.ingest));
    expect(click.status, JSON.stringify(click.body)).not.toBe(403);
    expect(click.status).toBeLessThan(500);
    const event = await app.request('POST', `/v1/accounts/${own}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('u') }, bearer(keys.ingest));
    expect(event.status, JSON.stringify(event.body)).not.toBe(403);
    expect(event.status).toBeLessThan(500);
  });

  it('refuses an ingest key every read and every change, with a 403 naming the scope it lacks', async () => {
    const reads = await app.request('GET', `/v1/accounts/${own}/destinations`, undefined, bearer(keys.ingest));
    expect(reads.status).toBe(403);
    expect(reads.body.message).toContain('"read"');
    const creates = await app.request('POST', `/v1/accounts/${own}/destinations`, destinationFields(), bearer(keys.ingest));
    expect(creates.status).toBe(403);
    expect(creates.body.message).toContain('"manage"');
    expect((await app.request('GET', `/v1/accounts/${own}/deliveries`, undefined, bearer(keys.ingest))).status).toBe(403);
    expect((await app.request('DELETE', `/v1/accounts/${own}/api-keys/${randomUUID()}`, undefined, bearer(keys.ingest))).status).toBe(403);
  });

  it('refuses a read key to cancel or retry a delivery, or to change a destination, with a 403 naming manage', async () => {
    const eventId = randomBytes(16).toString('hex');
    for (const [method, path, body] of [
      ['POST', `/v1/accounts/${own}/deliveries/${eventId}/cancel`, undefined],
      ['POST', `/v1/accounts/${own}/deliveries/${eventId}/retry`, undefined],
      ['POST', `/v1/accounts/${own}/destinations`, destinationFields()],
      ['DELETE', `/v1/accounts/${own}/destinations/${randomUUID()}`, undefined],
    ] as const) {
      const answer = await app.request(method, path, body, bearer(keys.read));
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.message).toContain('"manage"');
    }
    expect((await app.request('GET', `/v1/accounts/${own}/deliveries`, undefined, bearer(keys.read))).status).toBe(200);
  });

  it('refuses a read or manage key to ingest, naming ingest', async () => {
    for (const key of [keys.read, keys.manage]) {
      const answer = await app.request('POST', `/v1/accounts/${own}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: 'u' }, bearer(key));
      expect(answer.status).toBe(403);
      expect(answer.body.message).toContain('"ingest"');
    }
  });

  it('lets a manage key change destinations and a read key read its own account', async () => {
    const created = await app.request('POST', `/v1/accounts/${own}/destinations`, destinationFields(), bearer(keys.manage));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await app.request('GET', `/v1/accounts/${own}`, undefined, bearer(keys.read))).body).toMatchObject({ id: own });
  });

  it("answers 404 on another account's paths, with exactly the answer of an account that does not exist", async () => {
    const victim = await createAccount(app);
    await app.request('POST', `/v1/accounts/${victim}/destinations`, destinationFields());
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/v1/accounts/${victim}`],
      ['GET', `/v1/accounts/${victim}/destinations`],
      ['POST', `/v1/accounts/${victim}/destinations`, destinationFields()],
      ['POST', `/v1/accounts/${victim}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: 'u' }],
      ['POST', `/v1/accounts/${victim}/clicks`, { uid: 'u' }],
      ['GET', `/v1/accounts/${victim}/deliveries`],
      ['GET', `/v1/accounts/${victim}/api-keys`],
      ['POST', `/v1/accounts/${victim}/api-keys`, { name: 'mine now' }],
      ['DELETE', `/v1/accounts/${victim}`],
    ];
    const answer = async (method: string, path: string, body: unknown, key?: string) => {
      const { status, body: json } = await app.request(method, path, body, key === undefined ? {} : bearer(key));
      return { status, body: json };
    };
    const foreign = [];
    for (const [method, path, body] of routes) foreign.push(await answer(method, path, body, keys.all));
    expect(foreign.every(({ status }) => status === 404)).toBe(true);
    expect((await app.request('GET', `/v1/accounts/${victim}/destinations`)).body).toHaveLength(1);
    expect((await app.request('GET', `/v1/accounts/${victim}/api-keys`)).body).toEqual([]);

    expect((await app.request('DELETE', `/v1/accounts/${victim}`)).status).toBe(204);
    const absent = [];
    for (const [method, path, body] of routes) absent.push(await answer(method, path, body));
    expect(foreign).toEqual(absent);
  });

  it('refuses account keys on service-only routes: 403 on their own account, 404 on another one', async () => {
    const own403: Array<[string, string, unknown?]> = [
      ['GET', `/v1/accounts/${own}/api-keys`],
      ['POST', `/v1/accounts/${own}/api-keys`, { name: 'escalate' }],
      ['DELETE', `/v1/accounts/${own}`],
      ['PUT', `/v1/accounts/${own}`, { name: 'renamed', enabled: true }],
      ['GET', '/v1/accounts'],
    ];
    for (const [method, path, body] of own403) {
      const answer = await app.request(method, path, body, bearer(keys.all));
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.message).toContain('service key');
    }
    expect((await app.request('GET', `/v1/accounts/${other}/api-keys`, undefined, bearer(keys.all))).status).toBe(404);
    expect((await app.request('GET', `/v1/accounts/${own}`)).body.name).not.toBe('renamed');
  });

  it('refuses account keys to create accounts with 403 whether the id is new or taken, so PUT cannot probe ids', async () => {
    const fresh = freshId();
    const answers = [];
    for (const id of [fresh, other]) answers.push(await app.request('PUT', `/v1/accounts/${id}`, { name: 'mine', enabled: true }, bearer(keys.all)));
    expect(answers.map(({ status }) => status)).toEqual([403, 403]);
    expect(answers[0]!.body).toEqual(answers[1]!.body);
    expect((await app.request('GET', `/v1/accounts/${fresh}`)).status).toBe(404);
  });
});

describe('a disabled account', () => {
  const app = useTestApp();

  it('refuses ingest with a 403 naming the account, to its keys and to service keys, while reads and management go on', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId);
    await putAccount(app, accountId, { enabled: false });
    for (const headers of [bearer(key), {}]) {
      for (const [path, body] of [
        ['clicks', { uid: uniqueId('u') }],
        ['events', { id: uniqueId('evt'), canonical: 'contact', uid: 'u' }],
      ] as const) {
        const answer = await app.request('POST', `/v1/accounts/${accountId}/${path}`, body, headers);
        expect(answer.status, path).toBe(403);
        expect(answer.body.message).toBe(`account ${accountId} is disabled`);
      }
    }
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(200);
    expect((await app.request('POST', `/v1/accounts/${accountId}/destinations`, destinationFields(), bearer(key))).status).toBe(201);
  });

  it('accepts ingest again on the next request once it is enabled again', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId, ['ingest']);
    await putAccount(app, accountId, { enabled: false });
    expect((await app.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'u1' }, bearer(key))).status).toBe(403);
    await putAccount(app, accountId, { enabled: true });
    const click = await app.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'u1' }, bearer(key));
    expect(click.status, JSON.stringify(click.body)).toBe(201);
    const event = await app.request('POST', `/v1/accounts/${accountId}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: 'u1' }, bearer(key));
    expect(event.status, JSON.stringify(event.body)).toBe(202);
  });
});

describe('the request rate limit of an account', () => {
  const LIMIT = 3;
  // The configured default is off: only the account's own override limits it.
  const app = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } });

  it('counts every key of an account in one bucket against its own limit, without touching another account or the service key', async () => {
    const limited = await createAccount(app, { rate_limit_per_minute: LIMIT });
    const unlimited = await createAccount(app);
    const [first, second] = [await createAccountKey(app, limited), await createAccountKey(app, limited)];
    const free = await createAccountKey(app, unlimited);
    const statuses: number[] = [];
    for (const key of [first, second, first, second]) statuses.push((await app.request('GET', `/v1/accounts/${limited}/destinations`, undefined, bearer(key))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await app.request('GET', `/v1/accounts/${limited}`, undefined, bearer(first));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i <= LIMIT; i++) expect((await app.request('GET', `/v1/accounts/${unlimited}/destinations`, undefined, bearer(free))).status).toBe(200);
    expect((await app.request('GET', `/v1/accounts/${limited}/destinations`)).status).toBe(200);
  });

  it('counts the requests access control refuses too', async () => {
    const limited = await createAccount(app, { rate_limit_per_minute: LIMIT });
    const key = await createAccountKey(app, limited, ['read']);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await app.request('GET', `/v1/accounts/${app.accountId}/destinations`, undefined, bearer(key))).status);
    statuses.push((await app.request('GET', `/v1/accounts/${limited}/destinations`, undefined, bearer(key))).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });
});

describe('deleting an account', () => {
  const app = useTestApp();

  it('removes its destinations, keys, clicks, events and stored secrets: the destination is 404, the key 401, no row of it remains', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId);
    const fields = destinationFields();
    const secretHeader = (fields.headers as Record<string, string>)['X-Shared-Secret']!;
    const destination = await app.request('POST', `/v1/accounts/${accountId}/destinations`, fields);
    expect(destination.status, JSON.stringify(destination.body)).toBe(201);
    await app.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'gone' });
    await app.request('POST', `/v1/accounts/${accountId}/events`, { id: uniqueId('evt'), canonical: 'registration', uid: 'gone' });

    expect((await app.request('DELETE', `/v1/accounts/${accountId}`)).status).toBe(204);

    expect((await app.request('GET', `/v1/accounts/${accountId}`)).status).toBe(404);
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations/${destination.body.id}`)).status).toBe(404);
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(401);
    for (const table of ['accounts', 'api_keys', 'destinations', 'clicks', 'events', 'deliveries', 'delivery_attempts']) {
      const column = table === 'accounts' ? 'id' : 'account_id';
      const [{ n }] = await app.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [accountId]);
      expect(n, table).toBe(0);
    }
    const [{ n: secrets }] = await app.dataSource.query(
      `SELECT count(*)::int AS n FROM destinations WHERE headers::text LIKE $1 OR signing_secret = $2 OR previous_signing_secret = $2`,
      [`%${secretHeader}%`, destination.body.signing_secret],
    );
    expect(secrets).toBe(0);
  });

  it('cancels its running deliveries while the account still exists, then deletes it', async () => {
    const accountId = await createAccount(app);
    const openDeliveries = app.nest.get(OpenDeliveries);
    const existedAtCancel: boolean[] = [];
    const cancelForReal = openDeliveries.cancelAll.bind(openDeliveries);
    const cancelAll = vi.spyOn(openDeliveries, 'cancelAll').mockImplementation(async (id: string) => {
      existedAtCancel.push((await app.dataSource.query(`SELECT 1 FROM accounts WHERE id = $1`, [id])).length === 1);
      return cancelForReal(id);
    });
    try {
      expect((await app.request('DELETE', `/v1/accounts/${accountId}`)).status).toBe(204);
      expect(cancelAll.mock.calls).toEqual([[accountId]]);
      expect(existedAtCancel).toEqual([true]);
    } finally {
      cancelAll.mockRestore();
    }
  });

  it('refuses ingest for the account while its deletion is under way', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId, ['ingest']);
    const openDeliveries = app.nest.get(OpenDeliveries);
    let ingestDuringDelete: number | undefined;
    const cancelAll = vi.spyOn(openDeliveries, 'cancelAll').mockImplementation(async () => {
      ingestDuringDelete = (await app.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'late' }, bearer(key))).status;
      return 0;
    });
    try {
      expect((await app.request('DELETE', `/v1/accounts/${accountId}`)).status).toBe(204);
      expect(ingestDuringDelete).toBe(403);
    } finally {
      cancelAll.mockRestore();
    }
  });
});

describe('revoking a key across API processes', () => {
  const app = useTestApp();
  let second: SecondApi;

  beforeAll(async () => {
    second = await startSecondApi(app);
  });
  afterAll(async () => {
    await second?.close();
  });

  it('refuses a revoked key on the very next request to another API process', async () => {
    const accountId = await createAccount(app);
    const { id, key } = await createKey(app, accountId, { scopes: ['read'] });
    expect((await second.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(200);
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(200);
    expect((await app.request('DELETE', `/v1/accounts/${accountId}/api-keys/${id}`)).status).toBe(204);
    expect((await second.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(401);
    expect((await app.request('GET', `/v1/accounts/${accountId}/destinations`, undefined, bearer(key))).status).toBe(401);
  });

  it('applies a change of the account made through one process on the next request to the other', async () => {
    const accountId = await createAccount(app);
    const key = await createAccountKey(app, accountId, ['ingest']);
    expect((await second.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'u' }, bearer(key))).status).toBe(201);
    await putAccount(app, accountId, { enabled: false });
    expect((await second.request('POST', `/v1/accounts/${accountId}/clicks`, { uid: 'u' }, bearer(key))).status).toBe(403);
  });
});
