import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS_PER_RUN } from '../src/destinations/retry-policy.js';
import { useTestApp } from './support/test-app.js';

const VALID = {
  name: 'Meta CAPI relay',
  url: 'https://93.184.216.34/xt',
  headers: { 'X-Shared-Secret': 's3cr3t-value' },
  event_map: { deposit: 'Purchase', registration: 'CompleteRegistration' },
};

describe('destinations API', () => {
  // No WEBHOOK_ALLOWED_CIDRS: the SSRF rules apply in full.
  const app = useTestApp({ env: { WEBHOOK_ALLOWED_CIDRS: '' } });

  it('creates a destination with defaults, returning the signing secret once and masking header values', async () => {
    const created = await app.request('POST', app.path('/destinations'), VALID);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Meta CAPI relay',
      method: 'POST',
      enabled: true,
      headers: { 'X-Shared-Secret': '********' },
      event_map: VALID.event_map,
      timeout_ms: app.config.delivery.timeoutMs,
      retry_policy: {
        initial_interval_ms: app.config.delivery.initialIntervalMs,
        backoff_coefficient: 2,
        max_interval_ms: app.config.delivery.maxIntervalMs,
        // The default 0 ("as many as fit in max_age_ms") shows as the per-run ceiling the workflow runs with.
        max_attempts: MAX_ATTEMPTS_PER_RUN,
        max_age_ms: app.config.delivery.maxAgeMs,
      },
    });
    expect(created.body.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const fetched = await app.request('GET', app.path(`/destinations/${created.body.id}`));
    expect(fetched.body.signing_secret).toBeUndefined();
    expect(JSON.stringify(fetched.body)).not.toContain('s3cr3t-value');
    const listed = await app.request('GET', app.path('/destinations'));
    expect(JSON.stringify(listed.body)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.signing_secret);
  });

  it('updates only the fields given and applies retry_policy overrides over the defaults', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    const updated = await app.request('PATCH', app.path(`/destinations/${created.id}`), {
      enabled: false,
      method: 'PUT',
      retry_policy: { initial_interval_ms: 1000, max_attempts: 5 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ enabled: false, method: 'PUT', name: VALID.name, event_map: VALID.event_map });
    expect(updated.body.retry_policy).toMatchObject({ initial_interval_ms: 1000, max_attempts: 5, max_age_ms: 259_200_000 });
  });

  it('deletes a destination: 204, then 404', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    expect((await app.request('DELETE', app.path(`/destinations/${created.id}`))).status).toBe(204);
    expect((await app.request('GET', app.path(`/destinations/${created.id}`))).status).toBe(404);
    expect((await app.request('DELETE', app.path(`/destinations/${created.id}`))).status).toBe(404);
  });

  it('erases header values and both signing secrets from the stored row when a destination is deleted', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    const rotated = await app.request('POST', app.path(`/destinations/${created.id}/rotate-secret`));
    expect(rotated.status).toBe(200);

    expect((await app.request('DELETE', app.path(`/destinations/${created.id}`))).status).toBe(204);

    const [row] = await app.dataSource.query(`SELECT * FROM destinations WHERE id = $1`, [created.id]);
    expect(row).toMatchObject({
      headers: {},
      signing_secret: '',
      previous_signing_secret: null,
      previous_signing_secret_expires_at: null,
    });
    expect(row.deleted_at).not.toBeNull();
    const stored = JSON.stringify(row);
    for (const secret of ['s3cr3t-value', created.signing_secret, rotated.body.signing_secret]) expect(stored).not.toContain(secret);
  });

  it('keeps the delivery history readable: the deleted row stays, with its name, url and event_map', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    await app.request('DELETE', app.path(`/destinations/${created.id}`));

    const [row] = await app.dataSource.query(`SELECT name, url, event_map FROM destinations WHERE id = $1`, [created.id]);
    expect(row).toEqual({ name: VALID.name, url: VALID.url, event_map: VALID.event_map });
  });

  it('has the database refuse a deleted destination that holds a secret or header values', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    await app.request('DELETE', app.path(`/destinations/${created.id}`));

    await expect(app.dataSource.query(`UPDATE destinations SET signing_secret = 'whsec_x' WHERE id = $1`, [created.id])).rejects.toThrow(
      'destinations_deleted_hold_no_secrets',
    );
    await expect(app.dataSource.query(`UPDATE destinations SET headers = '{"X-A": "v"}' WHERE id = $1`, [created.id])).rejects.toThrow(
      'destinations_deleted_hold_no_secrets',
    );
  });

  it('answers 404 to a PATCH or a secret rotation of a deleted destination, writing nothing back', async () => {
    const { body: created } = await app.request('POST', app.path('/destinations'), VALID);
    await app.request('DELETE', app.path(`/destinations/${created.id}`));

    expect((await app.request('PATCH', app.path(`/destinations/${created.id}`), { headers: { 'X-A': 'v' } })).status).toBe(404);
    expect((await app.request('POST', app.path(`/destinations/${created.id}/rotate-secret`))).status).toBe(404);
    const [row] = await app.dataSource.query(`SELECT headers, signing_secret FROM destinations WHERE id = $1`, [created.id]);
    expect(row).toEqual({ headers: {}, signing_secret: '' });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect((await app.request('GET', app.path('/destinations/6f1c2d7e-1111-4222-8333-944455556666'))).status).toBe(404);
    const malformed = await app.request('GET', app.path('/destinations/not-a-uuid'));
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe('id must be a UUID');
  });

  it.each([
    ['an unknown field', { colour: 'blue' }, 'property colour should not exist'],
    ['a method other than POST/PUT/PATCH for a json destination', { method: 'GET' }, 'method GET is not allowed for a json destination'],
    ['a method no destination uses', { method: 'DELETE' }, 'method must be one of'],
    ['an event_map key that is not canonical', { event_map: { purchase: 'Purchase' } }, 'event_map key "purchase" is not a canonical event'],
    ['an empty target name', { event_map: { deposit: ' ' } }, 'event_map.deposit must be a non-empty target event name'],
    ['an empty event_map', { event_map: {} }, 'event_map must map at least one canonical event'],
    ['a header name that is not an HTTP token', { headers: { 'X Bad': 'v' } }, 'header name "X Bad" is not a valid HTTP token'],
    ['a header value with CR/LF', { headers: { 'X-Ok': 'a\r\nInjected: 1' } }, 'header "X-Ok" value may contain only printable ASCII (0x20-0x7E) and TAB'],
    ['a reserved header', { headers: { 'Content-Type': 'text/plain' } }, 'is set by XTRACKER'],
    ['a timeout out of range', { timeout_ms: 10 }, 'timeout_ms must not be less than 100'],
    ['max_interval below initial_interval', { retry_policy: { initial_interval_ms: 5000, max_interval_ms: 1000 } }, 'max_interval_ms must not be smaller'],
    ['a negative max_attempts', { retry_policy: { max_attempts: -1 } }, 'retry_policy.max_attempts must not be less than 0'],
  ])('refuses %s with 400', async (_, change, message) => {
    const response = await app.request('POST', app.path('/destinations'), { ...VALID, ...change });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(message);
  });

  it('refuses a name that resolves to loopback naming the rule, not the address', async () => {
    const response = await app.request('POST', app.path('/destinations'), { ...VALID, url: 'http://localhost:8080/' });

    expect(response.status).toBe(400);
    expect(response.body.message).toContain('url host "localhost" resolves to a non-public address (only public unicast addresses are allowed');
    expect(response.body.message).not.toMatch(/127\.0\.0\.1|::1/);
  });

  describe('refuses a URL that is not public at save, naming the reason', () => {
    it.each([
      ['ftp://93.184.216.34/x', 'scheme must be http or https'],
      ['not a url', 'not a valid absolute URL'],
      ['https://user:pass@93.184.216.34/', 'must not contain credentials'],
      ['http://127.0.0.1/', 'loopback'],
      ['http://localhost:8080/', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://0x7f.1/', 'loopback'],
      ['http://017700000001/', 'loopback'],
      ['http://0.0.0.0/', 'not public'],
      ['http://[::]/', 'not public'],
      ['http://[::1]/', 'loopback'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://10.0.0.1/', 'private'],
      ['http://172.16.0.1/', 'private'],
      ['http://192.168.1.1/', 'private'],
      ['http://169.254.169.254/latest/meta-data', 'link-local'],
      ['http://100.64.0.1/', 'carrier-grade NAT'],
      ['http://224.0.0.1/', 'multicast'],
      ['http://[fc00::1]/', 'not public'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://[64:ff9b::a00:1]/', 'private'],
    ])('%s', async (url, reason) => {
      const response = await app.request('POST', app.path('/destinations'), { ...VALID, url });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain(reason);
    });
  });
});
