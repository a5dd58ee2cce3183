import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS_PER_RUN } from '../src/destinations/retry-policy.js';
import { Receiver } from './support/receiver.js';
import { createAccount, createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { useTestApp, type TestApp } from './support/test-app.js';

const VALID = {
  name: 'hardening',
  url: 'http://127.0.0.1:8080/hook',
  headers: { Authorization: 'Bearer secret-for-the-first-receiver', 'X-Shared-Secret': 's3cr3t-value' },
  event_map: { deposit: 'Purchase', contact: 'Lead' },
};

async function destinationCount(app: TestApp): Promise<number> {
  const [row] = await app.dataSource.query(`SELECT count(*)::int AS count FROM destinations`);
  return row.count;
}

async function storedRow(app: TestApp, id: string): Promise<Record<string, unknown>> {
  const [row] = await app.dataSource.query(`SELECT * FROM destinations WHERE id = $1`, [id]);
  return row;
}

describe('destination input hardening', () => {
  // The production floor, so the minimum-interval rule is tested as it ships.
  const app = useTestApp({ env: { RETRY_MIN_INTERVAL_MS: '1000' } });
  const receivers: Receiver[] = [];

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  async function receiver(): Promise<Receiver> {
    const started = await Receiver.start();
    receivers.push(started);
    return started;
  }

  describe('a PATCH that moves the url to another origin drops the stored custom headers', () => {
    it('sends neither the Authorization nor any other stored header to the new origin', async () => {
      const first = await receiver();
      const second = await receiver();
      const destination = await createDestination(app, { ...VALID, url: `${first.url}/hook` });

      const moved = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { url: `${second.url}/hook` });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body.headers).toEqual({});
      const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-moved' });
      const eventId = response.body.deliveries.find((d: { destination_id: string }) => d.destination_id === destination.id).event_id;
      await deliveryReaches(app, eventId, ['sent']);

      const [request] = second.requests.filter((r) => r.headers['webhook-id'] === eventId);
      expect(request).toBeDefined();
      expect(request!.headers.authorization).toBeUndefined();
      expect(request!.headers['x-shared-secret']).toBeUndefined();
      expect(first.requests).toHaveLength(0);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it.each([
      ['scheme', 'http://127.0.0.1:8080/hook', 'https://127.0.0.1:8080/hook'],
      ['host', 'http://127.0.0.1:8080/hook', 'http://127.0.0.2:8080/hook'],
      ['port', 'http://127.0.0.1:8080/hook', 'http://127.0.0.1:8081/hook'],
    ])('drops them when the %s changes', async (_, from, to) => {
      const destination = await createDestination(app, { ...VALID, url: from });

      const moved = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { url: to });

      expect(moved.status).toBe(200);
      expect(moved.body.headers).toEqual({});
      expect((await storedRow(app, destination.id)).headers).toEqual({});
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it.each([
      ['only the path and query change', 'http://127.0.0.1:8080/hook', 'http://127.0.0.1:8080/other?x=1'],
      ['the default port is spelled out', 'http://127.0.0.1/hook', 'http://127.0.0.1:80/hook'],
      ['the scheme and host change case', 'http://127.0.0.1:8080/hook', 'HTTP://127.0.0.1:8080/Hook'],
    ])('keeps them when %s', async (_, from, to) => {
      const destination = await createDestination(app, { ...VALID, url: from });

      const moved = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { url: to });

      expect(moved.status).toBe(200);
      expect((await storedRow(app, destination.id)).headers).toEqual(VALID.headers);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it('keeps the headers the same request gives', async () => {
      const destination = await createDestination(app, VALID);
      const headers = { Authorization: 'Bearer secret-for-the-new-receiver' };

      const moved = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { url: 'http://127.0.0.2:9000/hook', headers });

      expect(moved.status).toBe(200);
      expect((await storedRow(app, destination.id)).headers).toEqual(headers);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });
  });

  const NOT_PRINTABLE_ASCII = 'value may contain only printable ASCII (0x20-0x7E) and TAB';

  describe('control characters are refused with a 400 naming the field, and nothing is written', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['a NUL in name', { name: 'a\u0000b' }, 'name must not contain control characters'],
      ['a TAB in name', { name: 'a\tb' }, 'name must not contain control characters'],
      ['a LF in name', { name: 'a\nb' }, 'name must not contain control characters'],
      ['a DEL in name', { name: 'a\u007fb' }, 'name must not contain control characters'],
      ['a C1 control (NEL) in name', { name: 'a\u0085b' }, 'name must not contain control characters'],
      ['a C1 control (CSI) in name', { name: 'a\u009b31mb' }, 'name must not contain control characters'],
      ['an unpaired surrogate in name', { name: 'a\ud800b' }, 'name must be well-formed Unicode'],
      ['a NUL in url', { url: 'http://127.0.0.1:8080/a\u0000b' }, 'url must not contain control characters'],
      ['a TAB in url', { url: 'http://127.0.0.1:8080/a\tb' }, 'url must not contain control characters'],
      ['a DEL in url', { url: 'http://127.0.0.1:8080/a\u007fb' }, 'url must not contain control characters'],
      ['a C1 control in url', { url: 'http://127.0.0.1:8080/a\u0090b' }, 'url must not contain control characters'],
      ['a NUL in an event_map target', { event_map: { deposit: 'Pur\u0000chase' } }, 'event_map.deposit must not contain control characters'],
      ['a TAB in an event_map target', { event_map: { deposit: 'Pur\tchase' } }, 'event_map.deposit must not contain control characters'],
      ['a DEL in an event_map target', { event_map: { deposit: 'Purchase\u007f' } }, 'event_map.deposit must not contain control characters'],
      ['a C1 control in an event_map target', { event_map: { contact: '\u009fLead' } }, 'event_map.contact must not contain control characters'],
      ['an unpaired surrogate in an event_map target', { event_map: { deposit: 'Purchase\udc00' } }, 'event_map.deposit must be well-formed Unicode'],
      ['a NUL in a header value', { headers: { 'X-Token': 'a\u0000b' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['a vertical tab in a header value', { headers: { 'X-Token': 'a\u000bb' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['a DEL in a header value', { headers: { 'X-Token': 'a\u007fb' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['a C1 control in a header value', { headers: { 'X-Token': 'a\u0080b' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['obs-text (U+00E9) in a header value', { headers: { 'X-Token': 'caf\u00e9' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['a code point above U+00FF in a header value', { headers: { 'X-Token': 'a\u0100b' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
      ['an emoji in a header value', { headers: { 'X-Token': 'key-\u{1f511}' } }, `header "X-Token" ${NOT_PRINTABLE_ASCII}`],
    ];

    it.each(cases)('POST with %s', async (_, change, message) => {
      const before = await destinationCount(app);

      const response = await app.request('POST', app.path('/destinations'), { ...VALID, ...change });

      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.message).toContain(message);
      expect(await destinationCount(app)).toBe(before);
    });

    it.each(cases)('PATCH with %s', async (_, change, message) => {
      const destination = await createDestination(app, VALID);
      const before = await storedRow(app, destination.id);

      const response = await app.request('PATCH', app.path(`/destinations/${destination.id}`), change);

      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.message).toContain(message);
      expect(await storedRow(app, destination.id)).toEqual(before);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it('accepts a TAB and spaces inside a header value', async () => {
      const destination = await createDestination(app, { ...VALID, headers: { 'X-Token': 'a\tb c' } });

      expect((await storedRow(app, destination.id)).headers).toEqual({ 'X-Token': 'a\tb c' });
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it('accepts letters beyond ASCII in name and event_map targets', async () => {
      const destination = await createDestination(app, { ...VALID, name: 'Мета · relais café', event_map: { deposit: 'Покупка' } });

      expect(await storedRow(app, destination.id)).toMatchObject({ name: 'Мета · relais café', event_map: { deposit: 'Покупка' } });
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });
  });

  describe('null is not a value, except timeout_ms', () => {
    it.each(['name', 'url', 'method', 'headers', 'event_map', 'enabled', 'retry_policy'])(
      'PATCH with %s: null is a 400 naming the field, and changes nothing',
      async (field) => {
        const destination = await createDestination(app, VALID);
        const before = await storedRow(app, destination.id);

        const response = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { [field]: null });

        expect(response.status, JSON.stringify(response.body)).toBe(400);
        expect(response.body.message).toContain(`${field} must not be null`);
        expect(await storedRow(app, destination.id)).toEqual(before);
        await app.request('DELETE', app.path(`/destinations/${destination.id}`));
      },
    );

    it.each(['name', 'url', 'method', 'headers', 'event_map', 'enabled', 'retry_policy'])(
      'POST with %s: null is a 400 naming the field, and writes nothing',
      async (field) => {
        const before = await destinationCount(app);

        const response = await app.request('POST', app.path('/destinations'), { ...VALID, [field]: null });

        expect(response.status, JSON.stringify(response.body)).toBe(400);
        expect(response.body.message).toContain(`${field} must not be null`);
        expect(await destinationCount(app)).toBe(before);
      },
    );

    it.each(['initial_interval_ms', 'backoff_coefficient', 'max_interval_ms', 'max_attempts', 'max_age_ms'])(
      'refuses retry_policy.%s: null with a 400 naming it',
      async (field) => {
        const response = await app.request('POST', app.path('/destinations'), { ...VALID, retry_policy: { [field]: null } });

        expect(response.status).toBe(400);
        expect(response.body.message).toContain(`retry_policy.${field} must not be null`);
      },
    );

    it('PATCH with timeout_ms: null goes back to the global default timeout', async () => {
      const destination = await createDestination(app, { ...VALID, timeout_ms: 2000 });

      const response = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { timeout_ms: null });

      expect(response.status).toBe(200);
      expect(response.body.timeout_ms).toBe(app.config.delivery.timeoutMs);
      expect((await storedRow(app, destination.id)).timeout_ms).toBeNull();
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });
  });

  describe('retry limits', () => {
    it.each([
      ['initial_interval_ms below the minimum retry interval', { initial_interval_ms: 999 }, 'retry_policy.initial_interval_ms must be at least 1000 ms'],
      ['max_interval_ms below the minimum retry interval', { max_interval_ms: 500 }, 'retry_policy.max_interval_ms must be at least 1000 ms'],
      ['max_attempts above the per-run maximum', { max_attempts: MAX_ATTEMPTS_PER_RUN + 1 }, `retry_policy.max_attempts must not be greater than ${MAX_ATTEMPTS_PER_RUN}`],
    ])('refuses %s with 400 on create and on update', async (_, retryPolicy, message) => {
      const before = await destinationCount(app);
      const created = await app.request('POST', app.path('/destinations'), { ...VALID, retry_policy: retryPolicy });
      expect(created.status).toBe(400);
      expect(created.body.message).toContain(message);
      expect(await destinationCount(app)).toBe(before);

      const destination = await createDestination(app, VALID);
      const updated = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { retry_policy: retryPolicy });
      expect(updated.status).toBe(400);
      expect(updated.body.message).toContain(message);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });

    it('accepts intervals at the minimum retry interval and max_attempts at the per-run maximum', async () => {
      const retry_policy = { initial_interval_ms: 1000, max_interval_ms: 1000, max_attempts: MAX_ATTEMPTS_PER_RUN };
      const response = await app.request('POST', app.path('/destinations'), { ...VALID, retry_policy });

      expect(response.status).toBe(201);
      expect(response.body.retry_policy).toMatchObject(retry_policy);
      await app.request('DELETE', app.path(`/destinations/${response.body.id}`));
    });

    it(`shows max_attempts 0 as the ${MAX_ATTEMPTS_PER_RUN} attempts a run makes, and starts the workflow with that number`, async () => {
      const target = await receiver();
      const destination = await createDestination(app, { ...VALID, url: `${target.url}/hook`, retry_policy: { max_attempts: 0 } });
      const fetched = await app.request('GET', app.path(`/destinations/${destination.id}`));
      expect(fetched.body.retry_policy.max_attempts).toBe(MAX_ATTEMPTS_PER_RUN);

      const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-attempts' });
      const eventId = response.body.deliveries.find((d: { destination_id: string }) => d.destination_id === destination.id).event_id;
      await deliveryReaches(app, eventId, ['sent']);
      const history = await app.temporal.workflow.getHandle(`delivery-${eventId}`).fetchHistory();
      const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const input = JSON.parse(Buffer.from(payload.data!).toString('utf8'));
      expect(input.retry.maxAttempts).toBe(MAX_ATTEMPTS_PER_RUN);
      await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    });
  });
});

describe('the cap on live destinations per account (MAX_DESTINATIONS, or the account\'s max_destinations)', () => {
  const MAX = 3;
  const app = useTestApp({ env: { MAX_DESTINATIONS: String(MAX) } });
  const receivers: Receiver[] = [];

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  async function deleteAll(accountId = app.accountId): Promise<void> {
    const { body } = await app.request('GET', `/v1/accounts/${accountId}/destinations`);
    for (const destination of body) await app.request('DELETE', `/v1/accounts/${accountId}/destinations/${destination.id}`);
  }

  const liveIn = async (accountId: string): Promise<number> =>
    (await app.dataSource.query(`SELECT count(*)::int AS count FROM destinations WHERE account_id = $1 AND deleted_at IS NULL`, [accountId]))[0].count;

  it('refuses destination number MAX_DESTINATIONS + 1 with 409 naming the limit, and counts only destinations not deleted', async () => {
    const created = [];
    for (let i = 0; i < MAX; i++) created.push(await createDestination(app, VALID));

    const refused = await app.request('POST', app.path('/destinations'), VALID);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(`destination limit reached: at most ${MAX} destinations may exist at once in this account; delete one before creating another`);
    expect(await liveIn(app.accountId)).toBe(MAX);

    await app.request('DELETE', app.path(`/destinations/${created[0]!.id}`));
    expect((await app.request('POST', app.path('/destinations'), VALID)).status).toBe(201);
    await deleteAll();
  });

  it('lets exactly MAX_DESTINATIONS of many concurrent creates through', async () => {
    await deleteAll();

    const statuses = await Promise.all(Array.from({ length: 3 * MAX }, () => app.request('POST', app.path('/destinations'), VALID).then((r) => r.status)));

    expect(statuses.filter((status) => status === 201)).toHaveLength(MAX);
    expect(statuses.filter((status) => status === 409)).toHaveLength(2 * MAX);
    expect((await app.request('GET', app.path('/destinations'))).body).toHaveLength(MAX);
    await deleteAll();
  });

  it("counts each account's destinations on their own: a full account does not stop another from creating its own MAX_DESTINATIONS", async () => {
    const full = await createAccount(app);
    const other = await createAccount(app);
    for (let i = 0; i < MAX; i++) await createDestination(app, VALID, { accountId: full });

    const statuses = await Promise.all(
      Array.from({ length: 2 * MAX }, () => app.request('POST', `/v1/accounts/${other}/destinations`, VALID).then((r) => r.status)),
    );

    expect(statuses.filter((status) => status === 201)).toHaveLength(MAX);
    expect(await liveIn(other)).toBe(MAX);
    expect((await app.request('POST', `/v1/accounts/${full}/destinations`, VALID)).status).toBe(409);
    expect(await liveIn(full)).toBe(MAX);
  });

  it("takes the account's own max_destinations over MAX_DESTINATIONS, above it or below it", async () => {
    const larger = await createAccount(app, { max_destinations: MAX + 2 });
    const smaller = await createAccount(app, { max_destinations: 1 });

    for (let i = 0; i < MAX + 2; i++) await createDestination(app, VALID, { accountId: larger });
    const beyondLarger = await app.request('POST', `/v1/accounts/${larger}/destinations`, VALID);
    await createDestination(app, VALID, { accountId: smaller });
    const beyondSmaller = await app.request('POST', `/v1/accounts/${smaller}/destinations`, VALID);

    expect(beyondLarger.status).toBe(409);
    expect(beyondLarger.body.message).toContain(`at most ${MAX + 2} destinations`);
    expect(beyondSmaller.status).toBe(409);
    expect(beyondSmaller.body.message).toContain('at most 1 destinations');
    expect([await liveIn(larger), await liveIn(smaller)]).toEqual([MAX + 2, 1]);
  });

  it("bounds the fan-out of one event by the account's limit: lowered below the destinations it has, only the oldest that many get the event", async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const accountId = await createAccount(app);
    const destinations = [];
    for (let i = 0; i < MAX; i++) destinations.push(await createDestination(app, { ...VALID, url: `${receiver.url}/fan-${i}` }, { accountId }));
    const lowered = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'lowered', max_destinations: 2 });
    expect(lowered.status, JSON.stringify(lowered.body)).toBe(200);

    const response = await app.request('POST', `/v1/accounts/${accountId}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: 'u-fan-out' });

    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.deliveries.map((d: { destination_id: string }) => d.destination_id)).toEqual(destinations.slice(0, 2).map((d) => d.id));
    const [stored] = await app.dataSource.query(`SELECT count(*)::int AS count FROM deliveries WHERE account_id = $1`, [accountId]);
    expect(stored.count).toBe(2);
  });
});
