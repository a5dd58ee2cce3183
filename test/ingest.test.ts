import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { DeliveryDispatcher } from '../src/deliveries/delivery-dispatcher.js';
import { DeliveryRepository } from '../src/deliveries/delivery.repository.js';
import { OutboxDispatcher, OUTBOX_BATCH } from '../src/deliveries/outbox-dispatcher.js';
import { OutboxListener } from '../src/deliveries/outbox-listener.js';
import { OutboxNotifier } from '../src/deliveries/outbox-notifier.js';
import { OUTBOX_CHANNEL, OutboxSignal } from '../src/deliveries/outbox-signal.js';
import { createDestination, deliveryReaches, getDelivery, inFreshAccount, uniqueId, workflowStartsDuring } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

describe('event ingest', () => {
  const app = useTestApp();
  let receiver: Receiver;
  let destinationId: string;

  beforeAll(async () => {
    receiver = await Receiver.start();
    destinationId = (await createDestination(app, { url: `${receiver.url}/in`, event_map: { deposit: 'Purchase', contact: 'Lead' } })).id;
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function rowCounts(): Promise<{ events: number; deliveries: number }> {
    const [row] = await app.dataSource.query(`SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM deliveries)::int AS deliveries`);
    return row;
  }

  it('creates no delivery for a canonical event no destination maps', async () => {
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'subscribed', uid: 'u1' });
    expect(response.status).toBe(202);
    expect(response.body.deliveries).toEqual([]);
  });

  it('keeps the delivery for a disabled destination as skipped, never sent, with no workflow', async () => {
    const disabled = await createDestination(app, { url: `${receiver.url}/off`, event_map: { registration: 'Reg' }, enabled: false });
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'registration', uid: 'u1' });
    expect(response.status).toBe(202);
    const skipped = response.body.deliveries.find((d: { destination_id: string }) => d.destination_id === disabled.id);
    expect(skipped).toMatchObject({ status: 'skipped', event: 'Reg' });
    await expect(app.temporal.workflow.getHandle(`delivery-${skipped.event_id}`).describe()).rejects.toThrow(/not found/i);
    expect(receiver.requests.some((request) => request.path === '/off')).toBe(false);
  });

  it('answers a repeated event id with the same deliveries and starts no second workflow', async () => {
    const id = uniqueId('evt');
    const event = { id, canonical: 'contact', uid: 'u-repeat' };
    const first = await app.request('POST', app.path('/events'), event);
    const eventId = first.body.deliveries[0].event_id;
    await deliveryReaches(app, eventId, ['sent']);
    const workflowId = `delivery-${eventId}`;
    const { runId } = await app.temporal.workflow.getHandle(workflowId).describe();

    // Temporal would refuse a second start of the workflow id anyway; what ingest promises is that it never asks.
    const { result: second, starts } = await workflowStartsDuring(app, () => app.request('POST', app.path('/events'), event));

    expect(second.status).toBe(202);
    expect(second.body.deliveries.map((d: { event_id: string }) => d.event_id)).toEqual([eventId]);
    expect(second.body.deliveries[0].status).toBe('sent');
    expect(starts.filter((start) => start.workflowId === workflowId), 'workflow starts asked of Temporal').toEqual([]);
    const runs = [];
    for await (const run of app.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run.runId);
    expect(runs).toEqual([runId]);
    expect(receiver.bodiesFor(eventId)).toHaveLength(1);
  });

  it('takes the idempotency key from the Idempotency-Key header', async () => {
    const key = uniqueId('hdr');
    const first = await app.request('POST', app.path('/events'), { canonical: 'contact', uid: 'u-hdr' }, { 'Idempotency-Key': key });
    const second = await app.request('POST', app.path('/events'), { canonical: 'contact', uid: 'u-hdr' }, { 'Idempotency-Key': key });
    expect(first.body.id).toBe(key);
    expect(second.body.deliveries).toEqual(first.body.deliveries.map((d: object) => ({ ...d, status: expect.any(String) })));
  });

  it('treats null optional fields as absent: no null reaches the webhook body, and a null id yields to the Idempotency-Key header', async () => {
    const key = uniqueId('null');
    const response = await app.request(
      'POST',
      app.path('/events'),
      { id: null, canonical: 'contact', uid: 'u-null', occurred_at_ms: null, data: { value: null, currency: null } },
      { 'Idempotency-Key': key },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.id).toBe(key);

    const delivery = await getDelivery(app, response.body.deliveries[0].event_id);
    expect(delivery.body.data).toEqual({});
    expect(delivery.body.occurred_at_ms).toEqual(expect.any(Number));
  });

  it('refuses an id reused for a different event with 409', async () => {
    const id = uniqueId('evt');
    await app.request('POST', app.path('/events'), { id, canonical: 'contact', uid: 'u-a' });
    const reused = await app.request('POST', app.path('/events'), { id, canonical: 'contact', uid: 'u-b' });
    expect(reused.status).toBe(409);
    expect(reused.body.message).toContain('already used for a different event');
  });

  it('builds one delivery per matched destination, each with its own event_id', async () => {
    const second = await createDestination(app, { url: `${receiver.url}/second`, event_map: { deposit: 'Deposit' } });
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'deposit', uid: 'u-fan', data: { value: '10', currency: 'EUR' } });
    const byDestination = Object.fromEntries(response.body.deliveries.map((d: { destination_id: string }) => [d.destination_id, d]));
    expect(byDestination[destinationId]).toMatchObject({ event: 'Purchase', status: 'pending' });
    expect(byDestination[second.id]).toMatchObject({ event: 'Deposit', status: 'pending' });
    expect(byDestination[destinationId].event_id).not.toBe(byDestination[second.id].event_id);
    // The outbox dispatcher starts both and records each start once.
    await eventually(async () => {
      const undispatched = await app.dataSource.query(`SELECT event_id FROM deliveries WHERE event_id = ANY($1) AND dispatched_at IS NULL`, [
        response.body.deliveries.map((d: { event_id: string }) => d.event_id),
      ]);
      return undispatched.length === 0 ? true : undefined;
    }, 20_000, 'both deliveries dispatched');
    await app.request('DELETE', app.path(`/destinations/${second.id}`));
  });

  describe('bad input is a 400 naming the problem, and writes nothing', () => {
    it.each([
      ['an unknown canonical event', { canonical: 'purchase', uid: 'u1' }, 'canonical must be one of'],
      ['a missing uid', { canonical: 'contact' }, 'uid'],
      ['a deposit without data', { canonical: 'deposit', uid: 'u1' }, 'deposit requires data.value'],
      ['a deposit without currency', { canonical: 'deposit', uid: 'u1', data: { value: '1.00' } }, 'deposit requires data.value'],
      ['a deposit whose value and currency are null', { canonical: 'deposit', uid: 'u1', data: { value: null, currency: null } }, 'deposit requires data.value'],
      ['a deposit whose currency is null', { canonical: 'deposit', uid: 'u1', data: { value: '1.00', currency: null } }, 'deposit requires data.value'],
      ['a value that is not a decimal string', { canonical: 'deposit', uid: 'u1', data: { value: 25, currency: 'USD' } }, 'data.value must be a decimal string'],
      ['a value with letters', { canonical: 'deposit', uid: 'u1', data: { value: '25,00', currency: 'USD' } }, 'data.value must be a decimal string'],
      ['a currency that is not 3 letters', { canonical: 'deposit', uid: 'u1', data: { value: '1', currency: 'usd' } }, 'data.currency must be a 3-letter'],
      ['occurred_at_ms that is not an integer', { canonical: 'contact', uid: 'u1', occurred_at_ms: 1765432100000.5 }, 'occurred_at_ms must be an integer'],
      ['occurred_at_ms given in seconds', { canonical: 'contact', uid: 'u1', occurred_at_ms: 1765432100 }, 'occurred_at_ms must be an epoch in milliseconds'],
      ['occurred_at_ms as a string', { canonical: 'contact', uid: 'u1', occurred_at_ms: '1765432100000' }, 'occurred_at_ms must be an integer'],
      ['an unknown field', { canonical: 'contact', uid: 'u1', extra: true }, 'property extra should not exist'],
      ['an unknown data field', { canonical: 'contact', uid: 'u1', data: { foo: 1 } }, 'property data.foo should not exist'],
    ])('%s', async (_, body, message) => {
      const before = await rowCounts();
      const response = await app.request('POST', app.path('/events'), { id: uniqueId('bad'), ...body });
      expect(response.status).toBe(400);
      expect(response.body.statusCode).toBe(400);
      expect(response.body.message).toContain(message);
      expect(await rowCounts()).toEqual(before);
    });

    it('malformed JSON', async () => {
      const response = await app.request('POST', app.path('/events'), '{"canonical": "contact",', { 'content-type': 'application/json' });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('request body is not valid JSON');
    });
  });

  it('answers 413 for a body over the documented limit', async () => {
    const response = await app.request('POST', app.path('/events'), { canonical: 'contact', uid: 'u1', padding: 'x'.repeat(300 * 1024) });
    expect(response.status).toBe(413);
    expect(response.body.message).toContain('limit');
  });

  it('answers 401 without a valid bearer key', async () => {
    const missing = await fetch(`${app.baseUrl}${app.path('/events')}`, { method: 'POST' });
    const wrong = await app.request('POST', app.path('/events'), { canonical: 'contact', uid: 'u1' }, { authorization: 'Bearer not-a-key' });
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
  });
});

describe('clicks', () => {
  const app = useTestApp();

  it('creates a click with 201 and merges a later call for the same uid with 200', async () => {
    const uid = uniqueId('click');
    const created = await app.request('POST', app.path('/clicks'), { uid, fbclid: 'IwAR1', country: 'IN' });
    const merged = await app.request('POST', app.path('/clicks'), { uid, tg_id: 555123 });
    expect(created.status).toBe(201);
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ uid, tg_id: 555123, fbclid: 'IwAR1', country: 'IN', campaign_id: null });
  });

  it('treats null fields as unknown: a merge with nulls keeps what an earlier call captured', async () => {
    const uid = uniqueId('click');
    await app.request('POST', app.path('/clicks'), { uid, tg_id: 555123, fbclid: 'IwAR1', campaign_id: '120', campaign_name: 'promoX', country: 'IN' });

    const merged = await app.request('POST', app.path('/clicks'), { uid, tg_id: null, fbclid: null, campaign_id: null, campaign_name: null, country: null });

    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ uid, tg_id: 555123, fbclid: 'IwAR1', campaign_id: '120', campaign_name: 'promoX', country: 'IN' });
  });

  it.each([
    ['a country that is not ISO 3166 alpha-2', { uid: 'c1', country: 'India' }, 'country must be an ISO 3166-1 alpha-2'],
    ['a negative tg_id', { uid: 'c1', tg_id: -5 }, 'tg_id must be a positive number'],
    ['a missing uid', { fbclid: 'x' }, 'uid'],
    ['a null uid', { uid: null, fbclid: 'x' }, 'uid must be a string'],
    ['a NUL in campaign_name', { uid: 'c1', campaign_name: 'promo\u0000X' }, 'campaign_name must not contain control characters'],
    ['a C1 control in fbclid', { uid: 'c1', fbclid: 'IwAR\u009b1' }, 'fbclid must not contain control characters'],
    ['a LF in campaign_id', { uid: 'c1', campaign_id: '120\n121' }, 'campaign_id must not contain control characters'],
  ])('refuses %s with 400, storing nothing', async (_, body, message) => {
    const [before] = await app.dataSource.query(`SELECT count(*)::int AS count FROM clicks`);
    const response = await app.request('POST', app.path('/clicks'), body);
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(message);
    const [after] = await app.dataSource.query(`SELECT count(*)::int AS count FROM clicks`);
    expect(after).toEqual(before);
  });
});

/** A pending delivery written straight into the outbox, as a commit of another process leaves it (no wake here). */
async function insertOutboxRow(app: TestApp, destinationId: string, eventId: string, fields: { claimedUntil?: string } = {}): Promise<void> {
  const [event] = await app.dataSource.query(
    `INSERT INTO events (account_id, idempotency_key, fingerprint, canonical, uid, occurred_at_ms, data) VALUES ($1, $2, 'f', 'contact', 'u-outbox', 1765432100000, '{}') RETURNING id`,
    [app.accountId, uniqueId('evt')],
  );
  await app.dataSource.query(
    `INSERT INTO deliveries (account_id, event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id, dispatch_claimed_until)
     VALUES ($1, $2, $3, $4, 'contact', 'Lead', $5, 'pending', $6, $7::timestamptz)`,
    [app.accountId, eventId, event.id, destinationId, JSON.stringify({ event: 'Lead', event_id: eventId }), `delivery-${eventId}`, fields.claimedUntil ?? null],
  );
}

function hexId(prefix: string, index: number): string {
  return `${prefix}${index.toString(16).padStart(32 - prefix.length, '0')}`;
}

describe('outbox dispatcher', () => {
  const app = useTestApp();
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('starts a delivery another process committed without a wake here, and one whose claim expired, but not one claimed now', async () => {
    const destination = await createDestination(app, { url: `${receiver.url}/polled`, event_map: { contact: 'Lead' } });
    const committed = 'a'.repeat(32);
    const expired = 'b'.repeat(32);
    const claimed = 'c'.repeat(32);
    await insertOutboxRow(app, destination.id, committed);
    await insertOutboxRow(app, destination.id, expired, { claimedUntil: '2001-01-01T00:00:00Z' });
    await insertOutboxRow(app, destination.id, claimed, { claimedUntil: '2999-01-01T00:00:00Z' });

    await deliveryReaches(app, committed, ['sent']);
    await deliveryReaches(app, expired, ['sent']);
    expect(receiver.bodiesFor(committed)).toHaveLength(1);
    expect(receiver.bodiesFor(expired)).toHaveLength(1);
    // Another dispatcher's live claim: this one leaves the row to it.
    expect((await getDelivery(app, claimed)).status).toBe('pending');
    expect(receiver.bodiesFor(claimed)).toHaveLength(0);
    await app.dataSource.query(`UPDATE deliveries SET dispatch_claimed_until = now() - interval '1 second' WHERE event_id = $1`, [claimed]);
    await deliveryReaches(app, claimed, ['sent']);
    expect(receiver.bodiesFor(claimed)).toHaveLength(1);
  });

  it("holds a hanging destination's backlog in PostgreSQL within its dispatch window, and dispatches another destination's deliveries past it", async () => {
    const tenant = await inFreshAccount(app);
    const hanging = await Receiver.start();
    try {
      hanging.replyWith({ hang: true });
      const slow = await createDestination(tenant, { url: `${hanging.url}/hang`, event_map: { contact: 'Lead' }, max_in_flight: 1, timeout_ms: 1000 });
      const backlog: string[] = [];
      for (let index = 0; index < 40; index++) {
        const response = await tenant.request('POST', tenant.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-hang' });
        expect(response.status).toBe(202);
        backlog.push(response.body.deliveries[0].event_id);
      }
      const healthy = await createDestination(tenant, { url: `${receiver.url}/healthy`, event_map: { registration: 'Reg' } });
      const response = await tenant.request('POST', tenant.path('/events'), { id: uniqueId('evt'), canonical: 'registration', uid: 'u-healthy' });
      await deliveryReaches(tenant, response.body.deliveries[0].event_id, ['sent']);
      expect(response.body.deliveries[0].destination_id).toBe(healthy.id);

      // Window: max(DISPATCH_WINDOW_FACTOR 2 × max_in_flight 1, DISPATCH_WINDOW_MIN 10) = 10 handed to Temporal before a first attempt.
      const window = Math.max(2 * 1, app.config.outbox.windowMinimum);
      let sawDispatched = 0;
      for (let look = 0; look < 20; look++) {
        const [row] = await tenant.dataSource.query(
          `SELECT count(*)::int AS open FROM deliveries WHERE destination_id = $1 AND status = 'pending' AND attempt_count = 0 AND dispatched_at IS NOT NULL`,
          [slow.id],
        );
        expect(row.open).toBeLessThanOrEqual(window);
        sawDispatched = Math.max(sawDispatched, row.open);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sawDispatched).toBeGreaterThan(0);
      // Once the receiver answers again, its streak ends, the window is whole again and the backlog
      // drains through it (while its attempts failed, the window was its cap alone: a first attempt
      // that failed made room for no other delivery to be started just to be held).
      hanging.replyWith(200);
      await eventually(async () => {
        const [row] = await tenant.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE destination_id = $1 AND dispatched_at IS NOT NULL`, [slow.id]);
        return row.n === backlog.length ? true : undefined;
      }, 90_000, 'the whole backlog dispatched once the receiver answers');
      expect(backlog).toHaveLength(40);
    } finally {
      await hanging.close();
    }
  }, 120_000);
  it("keeps a paused destination's new deliveries in the outbox, starting no workflow, and starts them on resume", async () => {
    const tenant = await inFreshAccount(app);
    const destination = await createDestination(tenant, { url: `${receiver.url}/paused`, event_map: { contact: 'Lead' } });
    expect((await tenant.request('POST', tenant.path(`/destinations/${destination.id}/pause`))).status).toBe(200);
    const eventIds: string[] = [];
    for (let index = 0; index < 5; index++) {
      const response = await tenant.request('POST', tenant.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-paused' });
      eventIds.push(response.body.deliveries[0].event_id);
    }
    // Several polls of the dispatcher (1 s each) pass without a start.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const [row] = await tenant.dataSource.query(`SELECT count(*) FILTER (WHERE dispatched_at IS NULL)::int AS waiting FROM deliveries WHERE destination_id = $1`, [destination.id]);
    expect(row.waiting).toBe(5);
    await expect(tenant.temporal.workflow.getHandle(`delivery-${eventIds[0]}`).describe()).rejects.toThrow(/not found/i);

    expect((await tenant.request('POST', tenant.path(`/destinations/${destination.id}/resume`))).status).toBe(200);
    await Promise.all(eventIds.map((eventId) => deliveryReaches(tenant, eventId, ['sent'])));
    for (const eventId of eventIds) expect(receiver.bodiesFor(eventId)).toHaveLength(1);
  });
});

describe('outbox claims', () => {
  // No worker: nothing but the dispatchers made here claims, so what each pass claims can be counted.
  const app = useTestApp({ worker: false });

  it('splits the outbox between concurrent dispatchers without claiming a row twice, and records every start', async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/unused', event_map: { contact: 'Lead' }, max_in_flight: 10_000 });
    const total = 3 * OUTBOX_BATCH + 17;
    for (let index = 0; index < total; index++) await insertOutboxRow(app, destination.id, hexId('e', index));
    const dispatchers = Array.from(
      { length: 4 },
      () =>
        new OutboxDispatcher(
          app.config,
          app.nest.get(DeliveryRepository),
          app.nest.get(DeliveryDispatcher),
          new OutboxSignal(),
          // Never started: these dispatchers are driven pass by pass, woken by nothing.
          {} as OutboxListener,
        ),
    );

    const passes = await Promise.all(
      dispatchers.map(async (dispatcher) => {
        let claimed = 0;
        for (;;) {
          const pass = await dispatcher.dispatchOnce();
          expect(pass.failed).toBe(0);
          if (pass.claimed === 0) return claimed;
          claimed += pass.claimed;
        }
      }),
    );

    expect(passes.reduce((sum, claimed) => sum + claimed, 0)).toBe(total);
    const [row] = await app.dataSource.query(
      `SELECT count(*) FILTER (WHERE dispatched_at IS NOT NULL)::int AS dispatched, count(*) FILTER (WHERE dispatch_claimed_until IS NOT NULL)::int AS claimed FROM deliveries WHERE destination_id = $1`,
      [destination.id],
    );
    expect(row).toEqual({ dispatched: total, claimed: 0 });
    // Visibility catches up with the starts shortly after.
    await eventually(async () => {
      const runs = await app.temporal.workflow.count(`TaskQueue = "${app.config.temporal.taskQueue}"`);
      return runs.count === total ? true : undefined;
    }, 30_000, `${total} workflows on the app's task queue`);
  }, 120_000);

  it('gives a failing destination its cap alone as its dispatch window, and the whole window again once it succeeds', async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/unused', event_map: { contact: 'Lead' }, max_in_flight: 3 });
    for (let index = 0; index < 20; index++) await insertOutboxRow(app, destination.id, hexId('fa', index));
    // Failing: two retryable failures since its last success, the breaker still closed.
    await app.dataSource.query(`INSERT INTO destination_health (destination_id, account_id, failure_streak, failing_since) VALUES ($1, $2, 2, now())`, [
      destination.id,
      app.accountId,
    ]);
    const dispatcher = new OutboxDispatcher(app.config, app.nest.get(DeliveryRepository), app.nest.get(DeliveryDispatcher), new OutboxSignal(), {} as OutboxListener);
    const dispatched = async () => {
      for (;;) if ((await dispatcher.dispatchOnce()).claimed === 0) break;
      const [row] = await app.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE destination_id = $1 AND dispatched_at IS NOT NULL`, [destination.id]);
      return row.n as number;
    };
    expect(await dispatched()).toBe(3);
    // A success ends the streak: max(DISPATCH_WINDOW_FACTOR 2 × 3, DISPATCH_WINDOW_MIN 10) before a first attempt.
    await app.dataSource.query(`UPDATE destination_health SET failure_streak = 0, failing_since = NULL WHERE destination_id = $1`, [destination.id]);
    expect(await dispatched()).toBe(Math.max(2 * 3, app.config.outbox.windowMinimum));
  });

  it("notifies other processes' dispatchers once an ingest committed, and covers a burst of commits with two NOTIFYs", async () => {
    const listener = new pg.Client({ connectionString: app.config.databaseUrl });
    await listener.connect();
    let notifications = 0;
    listener.on('notification', () => notifications++);
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    try {
      await createDestination(app, { url: 'http://127.0.0.1:9/unused', event_map: { contact: 'Lead' } });
      const before = notifications;
      const ingested = await app.request('POST', app.path('/events'), { canonical: 'contact', uid: uniqueId('uid') });
      expect(ingested.status).toBe(202);
      await eventually(async () => (notifications > before ? true : undefined), 5_000, 'a NOTIFY after the ingest');

      // 50 commits at once: the first NOTIFY goes out, the other 49 share the one that follows it.
      const notifier = app.nest.get(OutboxNotifier);
      await notifier.settled();
      const burstStart = notifications;
      for (let index = 0; index < 50; index++) notifier.committed();
      await eventually(async () => (notifications >= burstStart + 2 ? true : undefined), 5_000, 'the burst notified');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(notifications - burstStart).toBe(2);
    } finally {
      await listener.end();
    }
  });
});
