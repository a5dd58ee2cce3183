import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantDatabase } from '../src/database/tenant-database.js';
import { createAccount, createAccountKey, createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { useTestApp, type ApiResponse, type TestApp } from './support/test-app.js';

/** Every table whose rows belong to one account (migration 1764590400000-accounts). */
const TENANT_TABLES = ['destinations', 'clicks', 'events', 'deliveries', 'delivery_attempts'] as const;

/** The documented event_id: the first 32 hex digits of SHA-256 over account, event id and destination. */
function expectedEventId(accountId: string, idempotencyKey: string, destinationId: string): string {
  return createHash('sha256').update(`${accountId}\n${idempotencyKey}\n${destinationId}`).digest('hex').slice(0, 32);
}

/** Every row of the account in every tenant table, and its accounts row, read as the table owner. */
async function fingerprint(app: TestApp, accountId: string): Promise<string> {
  const tables: Record<string, unknown> = {};
  for (const table of [...TENANT_TABLES, 'accounts']) {
    const column = table === 'accounts' ? 'id' : 'account_id';
    const rows = await app.dataSource.query(`SELECT to_jsonb(t)::text AS row FROM ${table} t WHERE ${column} = $1 ORDER BY 1`, [accountId]);
    tables[table] = rows.map((row: { row: string }) => row.row);
  }
  return JSON.stringify(tables);
}

describe('two accounts sending the same uid and the same event id', () => {
  const app = useTestApp();
  const receivers: Receiver[] = [];

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  it("delivers each account's event only to its own receiver, with its own click context and a distinct event_id", async () => {
    const [acme, globex] = [await createAccount(app), await createAccount(app)];
    const [acmeReceiver, globexReceiver] = [await Receiver.start(), await Receiver.start()];
    receivers.push(acmeReceiver, globexReceiver);
    const acmeDestination = await createDestination(app, { url: `${acmeReceiver.url}/acme`, event_map: { deposit: 'Purchase' } }, { accountId: acme });
    const globexDestination = await createDestination(app, { url: `${globexReceiver.url}/globex`, event_map: { deposit: 'Purchase' } }, { accountId: globex });
    const uid = 'abc123';
    const event = { id: 'evt-42', canonical: 'deposit', uid, occurred_at_ms: 1765432100000, data: { value: '25.00', currency: 'USD' } };

    const acmeClick = await app.request('POST', `/v1/accounts/${acme}/clicks`, { uid, tg_id: 111, fbclid: 'IwAR-acme', campaign_id: 'c-acme', country: 'IN' });
    const globexClick = await app.request('POST', `/v1/accounts/${globex}/clicks`, { uid, tg_id: 222, fbclid: 'IwAR-globex', campaign_id: 'c-globex', country: 'BR' });
    const acmeIngest = await app.request('POST', `/v1/accounts/${acme}/events`, event);
    const globexIngest = await app.request('POST', `/v1/accounts/${globex}/events`, event);

    // The same uid in another account is a click of its own, not a merge into the first account's.
    expect([acmeClick.status, globexClick.status]).toEqual([201, 201]);
    expect(globexClick.body).toMatchObject({ uid, tg_id: 222, fbclid: 'IwAR-globex', campaign_id: 'c-globex', country: 'BR' });
    // The same id in another account is a new event, not a repeat of the first account's.
    expect([acmeIngest.status, globexIngest.status]).toEqual([202, 202]);
    const acmeEventId = expectedEventId(acme, 'evt-42', acmeDestination.id);
    const globexEventId = expectedEventId(globex, 'evt-42', globexDestination.id);
    expect(acmeIngest.body.deliveries).toEqual([{ event_id: acmeEventId, destination_id: acmeDestination.id, event: 'Purchase', status: 'pending' }]);
    expect(globexIngest.body.deliveries).toEqual([{ event_id: globexEventId, destination_id: globexDestination.id, event: 'Purchase', status: 'pending' }]);
    expect(acmeEventId).not.toBe(globexEventId);

    await deliveryReaches(app, acmeEventId, ['sent'], 30_000, { accountId: acme });
    await deliveryReaches(app, globexEventId, ['sent'], 30_000, { accountId: globex });
    expect(acmeReceiver.requests.map((request) => request.headers['webhook-id'])).toEqual([acmeEventId]);
    expect(globexReceiver.requests.map((request) => request.headers['webhook-id'])).toEqual([globexEventId]);
    expect(JSON.parse(acmeReceiver.requests[0]!.body)).toMatchObject({
      event_id: acmeEventId,
      click: { uid, tg_id: 111, fbclid: 'IwAR-acme', campaign_id: 'c-acme', campaign_name: null, country: 'IN' },
    });
    expect(JSON.parse(globexReceiver.requests[0]!.body)).toMatchObject({
      event_id: globexEventId,
      click: { uid, tg_id: 222, fbclid: 'IwAR-globex', campaign_id: 'c-globex', campaign_name: null, country: 'BR' },
    });
  });

  it("answers a repeated id from the account's own first event, and refuses it there for a different event, whatever another account sent under it", async () => {
    const [acme, globex] = [await createAccount(app), await createAccount(app)];
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const acmeDestination = await createDestination(app, { url: `${receiver.url}/acme`, event_map: { contact: 'Lead' } }, { accountId: acme });
    const id = uniqueId('evt');
    const first = await app.request('POST', `/v1/accounts/${acme}/events`, { id, canonical: 'contact', uid: 'u-acme' });
    // Another account's event under the same id neither collides with it nor changes what it answers.
    const other = await app.request('POST', `/v1/accounts/${globex}/events`, { id, canonical: 'registration', uid: 'u-globex' });

    const repeated = await app.request('POST', `/v1/accounts/${acme}/events`, { id, canonical: 'contact', uid: 'u-acme' });
    const reused = await app.request('POST', `/v1/accounts/${acme}/events`, { id, canonical: 'registration', uid: 'u-globex' });

    expect(other.status).toBe(202);
    expect(repeated.status).toBe(202);
    expect(repeated.body.deliveries.map((d: { event_id: string }) => d.event_id)).toEqual([expectedEventId(acme, id, acmeDestination.id)]);
    expect(first.body.deliveries.map((d: { event_id: string }) => d.event_id)).toEqual([expectedEventId(acme, id, acmeDestination.id)]);
    expect(reused.status).toBe(409);
  });
});

describe("isolation: account A's key against account B's resources", () => {
  const app = useTestApp();
  const receivers: Receiver[] = [];
  let a: string;
  let b: string;
  let keyOfA: string;
  /** Ids of B's resources, one of each kind a route can name. */
  const ofB = { destinationId: '', uid: '', idempotencyKey: '', sent: '', failed: '', retrying: '' };

  beforeAll(async () => {
    [a, b] = [await createAccount(app), await createAccount(app)];
    const [ok, refusing, unavailable] = [(await Receiver.start()).replyWith(200), (await Receiver.start()).replyWith(400), (await Receiver.start()).replyWith(503)];
    receivers.push(ok, refusing, unavailable);
    // A destination of A's own, so a leak into A's listings or deliveries would have company to hide in.
    await createDestination(app, { url: `${ok.url}/a`, event_map: { registration: 'Reg' } }, { accountId: a });
    ofB.destinationId = (await createDestination(app, { url: `${ok.url}/b`, event_map: { contact: 'Lead' } }, { accountId: b })).id;
    const failing = await createDestination(app, { url: `${refusing.url}/b`, event_map: { contact: 'Lead' } }, { accountId: b });
    // Retrying, and waiting minutes for its next attempt: its row holds still while the routes are walked.
    const retrying = await createDestination(
      app,
      { url: `${unavailable.url}/b`, event_map: { contact: 'Lead' }, retry_policy: { initial_interval_ms: 300_000, max_interval_ms: 300_000 } },
      { accountId: b },
    );
    ofB.uid = uniqueId('uid');
    ofB.idempotencyKey = uniqueId('evt');
    expect((await app.request('POST', `/v1/accounts/${b}/clicks`, { uid: ofB.uid, fbclid: 'IwAR-b' })).status).toBe(201);
    const ingested = await app.request('POST', `/v1/accounts/${b}/events`, { id: ofB.idempotencyKey, canonical: 'contact', uid: ofB.uid });
    expect(ingested.status, JSON.stringify(ingested.body)).toBe(202);
    const eventIdFor = (destinationId: string) => ingested.body.deliveries.find((d: { destination_id: string }) => d.destination_id === destinationId).event_id;
    ofB.sent = eventIdFor(ofB.destinationId);
    ofB.failed = eventIdFor(failing.id);
    ofB.retrying = eventIdFor(retrying.id);
    await deliveryReaches(app, ofB.sent, ['sent'], 30_000, { accountId: b });
    await deliveryReaches(app, ofB.failed, ['failed'], 30_000, { accountId: b });
    await deliveryReaches(app, ofB.retrying, ['retrying'], 30_000, { accountId: b });
    keyOfA = await createAccountKey(app, a);
  });

  afterAll(async () => {
    if (ofB.retrying) await app.request('POST', `/v1/accounts/${b}/deliveries/${ofB.retrying}/cancel`);
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  const asA = (method: string, path: string, body?: unknown): Promise<ApiResponse> => app.request(method, path, body, { authorization: `Bearer ${keyOfA}` });

  /** Every tenant route, naming B's resources; `account` is the account in the path. */
  const routesNaming = (account: () => string): Array<[string, () => [string, string, unknown?]]> => [
    ['GET destinations/:id', () => ['GET', `/v1/accounts/${account()}/destinations/${ofB.destinationId}`]],
    ['PATCH destinations/:id', () => ['PATCH', `/v1/accounts/${account()}/destinations/${ofB.destinationId}`, { name: 'taken over', url: 'http://127.0.0.1:9/stolen' }]],
    ['DELETE destinations/:id', () => ['DELETE', `/v1/accounts/${account()}/destinations/${ofB.destinationId}`]],
    ['POST destinations/:id/rotate-secret', () => ['POST', `/v1/accounts/${account()}/destinations/${ofB.destinationId}/rotate-secret`]],
    ['GET deliveries/:event_id', () => ['GET', `/v1/accounts/${account()}/deliveries/${ofB.sent}`]],
    ['POST deliveries/:event_id/cancel', () => ['POST', `/v1/accounts/${account()}/deliveries/${ofB.retrying}/cancel`]],
    ['POST deliveries/:event_id/retry', () => ['POST', `/v1/accounts/${account()}/deliveries/${ofB.failed}/retry`]],
  ];

  /** Routes without an id of B's: only B's path names B. */
  const routesOnlyUnderB = (): Array<[string, () => [string, string, unknown?]]> => [
    ['POST destinations', () => ['POST', `/v1/accounts/${b}/destinations`, { name: 'planted', url: 'http://127.0.0.1:9/x', event_map: { contact: 'Lead' } }]],
    ['GET destinations', () => ['GET', `/v1/accounts/${b}/destinations`]],
    ['POST clicks', () => ['POST', `/v1/accounts/${b}/clicks`, { uid: ofB.uid, tg_id: 999 }]],
    ['POST events', () => ['POST', `/v1/accounts/${b}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: ofB.uid }]],
    ['GET deliveries', () => ['GET', `/v1/accounts/${b}/deliveries`]],
  ];

  /** Walks the routes, then checks every answer was 404 and that nothing of B moved, in the database or in Temporal. */
  async function expectAllNotFound(routes: Array<[string, () => [string, string, unknown?]]>): Promise<void> {
    const before = await fingerprint(app, b);
    const answers: Record<string, number> = {};
    for (const [label, route] of routes) {
      const [method, path, body] = route();
      answers[label] = (await asA(method, path, body)).status;
    }
    expect(answers).toEqual(Object.fromEntries(routes.map(([label]) => [label, 404])));
    const { status } = await app.temporal.workflow.getHandle(`delivery-${ofB.retrying}`).describe();
    expect(status.name, "B's retrying delivery was not cancelled").toBe('RUNNING');
    expect(await fingerprint(app, b)).toBe(before);
  }

  it("answers 404 on every route under B's path, and changes nothing of B", async () => {
    await expectAllNotFound([...routesNaming(() => b), ...routesOnlyUnderB()]);
  });

  it("answers 404 on every route under A's own path that names a resource of B, and changes nothing of B", async () => {
    await expectAllNotFound(routesNaming(() => a));
  });

  it("lists nothing of B under A's path, whatever the filter names", async () => {
    const destinations = await asA('GET', `/v1/accounts/${a}/destinations`);
    const filtered = await asA('GET', `/v1/accounts/${a}/deliveries?destination_id=${ofB.destinationId}`);
    const deliveries = await asA('GET', `/v1/accounts/${a}/deliveries`);

    expect([destinations.status, filtered.status, deliveries.status]).toEqual([200, 200, 200]);
    expect(destinations.body).toHaveLength(1);
    expect(destinations.body.map((d: { id: string }) => d.id)).not.toContain(ofB.destinationId);
    expect(filtered.body.items).toEqual([]);
    const bEventIds = [ofB.sent, ofB.failed, ofB.retrying];
    expect(deliveries.body.items.filter((d: { event_id: string }) => bEventIds.includes(d.event_id))).toEqual([]);
  });

  it("keeps B's click and event out of A's ingest under B's uid and event id: A gets a click and an event of its own", async () => {
    const before = await fingerprint(app, b);

    const click = await asA('POST', `/v1/accounts/${a}/clicks`, { uid: ofB.uid });
    const event = await asA('POST', `/v1/accounts/${a}/events`, { id: ofB.idempotencyKey, canonical: 'contact', uid: ofB.uid });

    expect(click.status).toBe(201);
    expect(click.body.fbclid).toBeNull();
    expect(event.status).toBe(202);
    // A has no destination mapping contact: none of B's is reached.
    expect(event.body.deliveries).toEqual([]);
    expect(await fingerprint(app, b)).toBe(before);
  });

  describe('with row-level security switched off, so only the statements\' own account filters stand', () => {
    const setRowLevelSecurity = async (enabled: boolean) => {
      for (const table of TENANT_TABLES) await app.dataSource.query(`ALTER TABLE ${table} ${enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
    };
    beforeAll(() => setRowLevelSecurity(false));
    afterAll(() => setRowLevelSecurity(true));

    it("still answers 404 on every route under A's path that names a resource of B, and changes nothing of B", async () => {
      await expectAllNotFound(routesNaming(() => a));
    });

    it("still lists nothing of B under A's path", async () => {
      const destinations = await asA('GET', `/v1/accounts/${a}/destinations`);
      const filtered = await asA('GET', `/v1/accounts/${a}/deliveries?destination_id=${ofB.destinationId}`);

      expect(destinations.body.map((d: { id: string }) => d.id)).not.toContain(ofB.destinationId);
      expect(filtered.body.items).toEqual([]);
    });

    it("still keeps B's click out of an event A ingests under a uid only B clicked", async () => {
      const receiver = (await Receiver.start()).replyWith(200);
      receivers.push(receiver);
      await createDestination(app, { url: `${receiver.url}/a`, event_map: { subscribed: 'Subscribe' } }, { accountId: a });
      const uid = uniqueId('uid');
      expect((await app.request('POST', `/v1/accounts/${b}/clicks`, { uid, tg_id: 777, fbclid: 'IwAR-only-b' })).status).toBe(201);

      const event = await asA('POST', `/v1/accounts/${a}/events`, { id: uniqueId('evt'), canonical: 'subscribed', uid });

      expect(event.status, JSON.stringify(event.body)).toBe(202);
      const delivery = await deliveryReaches(app, event.body.deliveries[0].event_id, ['sent'], 30_000, { accountId: a });
      expect(delivery.body.click).toEqual({ uid, tg_id: null, fbclid: null, campaign_id: null, campaign_name: null, country: null });
    });
  });
});

describe('row-level security as the second line', () => {
  const app = useTestApp();
  let a: string;
  let b: string;
  let tenant: TenantDatabase;

  beforeAll(async () => {
    tenant = app.nest.get(TenantDatabase);
    [a, b] = [await createAccount(app), await createAccount(app)];
    // A row of B in every tenant table, written as the table owner.
    const [destination] = await app.dataSource.query(
      `INSERT INTO destinations (account_id, name, url, method, event_map, signing_secret) VALUES ($1, 'b', 'http://127.0.0.1:9/', 'POST', '{"contact": "Lead"}', 'whsec_b') RETURNING id`,
      [b],
    );
    await app.dataSource.query(`INSERT INTO clicks (account_id, uid) VALUES ($1, 'u-b')`, [b]);
    const [event] = await app.dataSource.query(
      `INSERT INTO events (account_id, idempotency_key, fingerprint, canonical, uid, occurred_at_ms) VALUES ($1, 'evt-b', 'f', 'contact', 'u-b', 0) RETURNING id`,
      [b],
    );
    const eventId = 'b'.repeat(32);
    await app.dataSource.query(
      `INSERT INTO deliveries (account_id, event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id)
       VALUES ($1, $2, $3, $4, 'contact', 'Lead', '{}', 'failed', $5)`,
      [b, eventId, event.id, destination.id, `delivery-${eventId}`],
    );
    await app.dataSource.query(
      `INSERT INTO delivery_attempts (account_id, event_id, workflow_run_id, attempt, started_at, duration_ms) VALUES ($1, $2, 'run', 1, now(), 1)`,
      [b, eventId],
    );
    await createDestination(app, { url: 'http://127.0.0.1:9/a', event_map: { contact: 'Lead' } }, { accountId: a });
  });

  it.each(TENANT_TABLES)("shows an unfiltered SELECT * FROM %s run as account A none of B's rows", async (table) => {
    const asOwner: Array<{ account_id: string }> = await app.dataSource.query(`SELECT * FROM ${table}`);
    const asA: Array<{ account_id: string }> = await tenant.run(a, (manager) => manager.query(`SELECT * FROM ${table}`));

    // The control: B's row is there for the owner, so what A does not see the policy hid.
    expect(asOwner.filter((row) => row.account_id === b)).not.toHaveLength(0);
    expect(asA.filter((row) => row.account_id !== a)).toEqual([]);
  });

  it("shows account A its own rows through the same unfiltered statement", async () => {
    const rows: Array<{ account_id: string }> = await tenant.run(a, (manager) => manager.query(`SELECT * FROM destinations`));

    expect(rows.map((row) => row.account_id)).toEqual([a]);
  });

  it('refuses an INSERT of a row for B run as account A', async () => {
    await expect(
      tenant.run(a, (manager) =>
        manager.query(`INSERT INTO destinations (account_id, name, url, method, event_map, signing_secret) VALUES ($1, 'planted', 'http://127.0.0.1:9/', 'POST', '{"contact": "Lead"}', 'whsec_p')`, [b]),
      ),
    ).rejects.toThrow('row-level security');
    await expect(tenant.run(a, (manager) => manager.query(`INSERT INTO clicks (account_id, uid) VALUES ($1, 'u-planted')`, [b]))).rejects.toThrow('row-level security');
    const planted = await app.dataSource.query(`SELECT 1 FROM destinations WHERE account_id = $1 AND name = 'planted' UNION ALL SELECT 1 FROM clicks WHERE uid = 'u-planted'`, [b]);
    expect(planted).toEqual([]);
  });

  it("changes none of B's rows with an unfiltered UPDATE or DELETE run as account A", async () => {
    const before = await fingerprint(app, b);

    await tenant.run(a, async (manager) => {
      await manager.query(`UPDATE deliveries SET status = 'pending'`);
      await manager.query(`UPDATE destinations SET name = 'taken over'`);
      await manager.query(`DELETE FROM clicks`);
    });

    expect(await fingerprint(app, b)).toBe(before);
    const [own] = await app.dataSource.query(`SELECT name FROM destinations WHERE account_id = $1`, [a]);
    // The control: the same statement did change A's own row.
    expect(own.name).toBe('taken over');
  });
});
