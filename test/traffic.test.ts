import { afterAll, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, getDelivery, inFreshAccount, ingestContacts, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

/**
 * Traffic control against the real service: limits shared through PostgreSQL, holds in real
 * Temporal workflows, and real receivers on loopback that count what reaches them.
 */

const receivers: Receiver[] = [];
async function freshReceiver(...replies: Parameters<Receiver['replyWith']>): Promise<Receiver> {
  const receiver = await Receiver.start();
  receivers.push(receiver);
  return replies.length > 0 ? receiver.replyWith(...replies) : receiver;
}
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});


function destinationPath(app: TestApp, id: string, suffix = ''): string {
  return app.path(`/destinations/${id}${suffix}`);
}

/** The most requests that reached the receiver within any window of `windowMs`. */
function busiestWindow(arrivalsMs: number[], windowMs: number): number {
  const sorted = [...arrivalsMs].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('per-destination limits', () => {
  const app = useTestApp();

  it('sends 300 queued deliveries to a destination limited to 5/s at no more than 5.5/s over any 10 s, and all of them', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(200);
    const destination = await createDestination(tenant, { url: `${receiver.url}/limited`, event_map: { contact: 'Lead' }, rate_limit_per_second: 5 });
    const shown = await tenant.request('GET', destinationPath(tenant, destination.id));
    expect(shown.body.rate_limit_per_second).toBe(5);

    const eventIds = await ingestContacts(tenant, 300, 'u-traffic');
    await eventually(() => (new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size >= 300 ? true : undefined), 120_000, '300 deliveries to arrive');

    const arrivals = receiver.requests.map((request) => request.receivedAtMs);
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set(eventIds));
    expect(receiver.requests).toHaveLength(300);
    expect(busiestWindow(arrivals, 10_000)).toBeLessThanOrEqual(55);
    // Every delivery was held at most by the limiter: none spent an attempt on it.
    const sample = await getDelivery(tenant, eventIds[299]!);
    expect(sample).toMatchObject({ status: 'sent', attempt_count: 1 });
  }, 180_000);

  it('never has more than max_in_flight attempts at the receiver at once, and sends them all', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver({ status: 200, delayMs: 300 });
    await createDestination(tenant, { url: `${receiver.url}/capped`, event_map: { contact: 'Lead' }, max_in_flight: 2 });

    const eventIds = await ingestContacts(tenant, 30, 'u-traffic');
    await Promise.all(eventIds.map((eventId) => deliveryReaches(tenant, eventId, ['sent'], 60_000)));
    expect(receiver.requests).toHaveLength(30);
    expect(receiver.maxInFlight).toBe(2);
  }, 120_000);

  it('takes the account default when the destination sets none, and refuses limits out of range', async () => {
    const tenant = await inFreshAccount(app);
    const destination = await createDestination(tenant, { url: 'http://127.0.0.1:9/none', event_map: { contact: 'Lead' } });
    const shown = await tenant.request('GET', destinationPath(tenant, destination.id));
    expect(shown.body).toMatchObject({ rate_limit_per_second: null, max_in_flight: 20, paused: false, disabled_reason: null });
    expect(shown.body.health).toEqual({
      breaker: 'closed',
      failure_streak: 0,
      failing_since: null,
      open_until: null,
      last_success_at: null,
      last_failure_at: null,
      last_failure_reason: null,
    });

    for (const [field, value] of [['rate_limit_per_second', 0], ['rate_limit_per_second', -1], ['max_in_flight', 0], ['max_in_flight', 1.5]] as const) {
      const refused = await tenant.request('PATCH', destinationPath(tenant, destination.id), { [field]: value });
      expect(refused.status, `${field}: ${value}`).toBe(400);
      expect(JSON.stringify(refused.body)).toContain(field);
    }
    const fractional = await tenant.request('PATCH', destinationPath(tenant, destination.id), { rate_limit_per_second: 0.5 });
    expect(fractional.status).toBe(200);
    expect(fractional.body.rate_limit_per_second).toBe(0.5);

    // The account's defaults apply to destinations that set nothing; null puts the configured one back.
    const account = await tenant.request('PUT', `/v1/accounts/${tenant.accountId}`, { name: tenant.accountId, default_rate_limit_per_second: 2.5, default_max_in_flight: 7, auto_disable_after_ms: 86_400_000 });
    expect(account.body).toMatchObject({ default_rate_limit_per_second: 2.5, default_max_in_flight: 7, auto_disable_after_ms: 86_400_000 });
    const other = await createDestination(tenant, { url: 'http://127.0.0.1:9/other', event_map: { contact: 'Lead' } });
    const inherited = await tenant.request('GET', destinationPath(tenant, other.id));
    expect(inherited.body).toMatchObject({ rate_limit_per_second: 2.5, max_in_flight: 7 });
    const own = await tenant.request('GET', destinationPath(tenant, destination.id));
    expect(own.body).toMatchObject({ rate_limit_per_second: 0.5, max_in_flight: 7 });
    const tooEager = await tenant.request('PUT', `/v1/accounts/${tenant.accountId}`, { name: tenant.accountId, auto_disable_after_ms: 1000 });
    expect(tooEager.status).toBe(400);
    expect(JSON.stringify(tooEager.body)).toContain('auto_disable_after_ms');
  });
});

describe('circuit breaker', () => {
  const COOLDOWN_MS = 2_000;
  const app = useTestApp({ env: { BREAKER_FAILURE_THRESHOLD: '3', BREAKER_COOLDOWN_MS: String(COOLDOWN_MS) } });

  it('opens after consecutive failures, then lets one probe per cool-down through, and resumes within one cool-down of a 200', async () => {
    const tenant = await inFreshAccount(app);
    const operations = await freshReceiver(200);
    const withChannel = await tenant.request('PUT', `/v1/accounts/${tenant.accountId}`, { name: tenant.accountId, operational_webhook_url: `${operations.url}/ops` });
    expect(withChannel.status, JSON.stringify(withChannel.body)).toBe(200);
    const receiver = await freshReceiver(503);
    const destination = await createDestination(tenant, { url: `${receiver.url}/failing`, event_map: { contact: 'Lead' } });
    const eventIds = await ingestContacts(tenant, 10, 'u-traffic');

    const opened = await eventually(async () => {
      const shown = await tenant.request('GET', destinationPath(tenant, destination.id));
      return shown.body.health.breaker === 'open' ? shown.body : undefined;
    }, 30_000, 'the breaker to open');
    expect(opened.health.failure_streak).toBeGreaterThanOrEqual(3);
    expect(opened.health.last_failure_reason).toContain('HTTP 503');
    expect(opened.health.failing_since).not.toBeNull();

    // Attempts already in flight when it opened may still land; after that, one probe per cool-down.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = receiver.requests.length;
    const windowMs = 4 * COOLDOWN_MS;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const duringOpen = receiver.requests.length - before;
    expect(duringOpen).toBeGreaterThanOrEqual(1);
    expect(duringOpen).toBeLessThanOrEqual(windowMs / COOLDOWN_MS + 1);
    // Held deliveries spent no attempt on the wait: far fewer attempts than the time would allow at full policy speed.
    const statuses = await Promise.all(eventIds.map((eventId) => getDelivery(tenant, eventId)));
    expect(statuses.every((delivery) => delivery.status === 'retrying' || delivery.status === 'pending')).toBe(true);

    receiver.replyWith(200);
    const healedAtMs = Date.now();
    await Promise.all(eventIds.map((eventId) => deliveryReaches(tenant, eventId, ['sent'], 30_000)));
    // One cool-down, the spread of the waiters' wake-ups (at most 2 s) and the round trips.
    expect(Date.now() - healedAtMs).toBeLessThan(COOLDOWN_MS + 2_000 + 4_000);
    const closed = await tenant.request('GET', destinationPath(tenant, destination.id));
    expect(closed.body.health).toMatchObject({ breaker: 'closed', failure_streak: 0, failing_since: null, open_until: null });
    expect(closed.body.health.last_success_at).not.toBeNull();

    // The account heard of both turns on its operational webhook, which never went through the breaker.
    const notifications = await eventually(() => {
      const types = operations.requests.map((request) => JSON.parse(request.body) as { type: string; data: Record<string, unknown> });
      return types.some((n) => n.type === 'destination.recovered') ? types : undefined;
    }, 20_000, 'the operational notifications');
    const failing = notifications.filter((n) => n.type === 'destination.failing');
    expect(failing.length).toBeGreaterThanOrEqual(1);
    expect(failing[0]!.data).toMatchObject({ destination_id: destination.id });
    expect(String(failing[0]!.data.reason)).toContain('HTTP 503');
    expect(notifications.filter((n) => n.type === 'destination.recovered')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ destination_id: destination.id }) }),
    ]);
  }, 90_000);
});

describe('pause, resume and disable', () => {
  const app = useTestApp();

  it('holds new and retrying deliveries while paused and drains them on resume, losing nothing', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(503, 200);
    const destination = await createDestination(tenant, { url: `${receiver.url}/paused`, event_map: { contact: 'Lead' }, retry_policy: { initial_interval_ms: 1_500 } });
    const [retrying] = await ingestContacts(tenant, 1, 'u-traffic');
    await deliveryReaches(tenant, retrying!, ['retrying']);

    const paused = await tenant.request('POST', destinationPath(tenant, destination.id, '/pause'));
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true });
    expect(paused.body.paused_at).not.toBeNull();
    const fresh = await ingestContacts(tenant, 5, 'u-traffic');

    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(receiver.requests).toHaveLength(1);
    for (const eventId of [retrying!, ...fresh]) expect(['pending', 'retrying']).toContain((await getDelivery(tenant, eventId)).status);

    const resumed = await tenant.request('POST', destinationPath(tenant, destination.id, '/resume'));
    expect(resumed.body).toMatchObject({ paused: false, paused_at: null });
    await Promise.all([retrying!, ...fresh].map((eventId) => deliveryReaches(tenant, eventId, ['sent'], 20_000)));
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([retrying!, ...fresh]));
    // The hold spent no attempt: the retrying delivery was sent on its second.
    expect((await getDelivery(tenant, retrying!)).attempt_count).toBe(2);
  }, 60_000);

  it('keeps the events of a disabled destination as skipped deliveries, listable and never sent', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(200);
    const destination = await createDestination(tenant, { url: `${receiver.url}/disabled`, event_map: { contact: 'Lead' } });
    const disabled = await tenant.request('PATCH', destinationPath(tenant, destination.id), { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, disabled_reason: 'disabled through the API' });

    const ingested = await tenant.request('POST', tenant.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-traffic' });
    expect(ingested.status).toBe(202);
    expect(ingested.body.deliveries).toEqual([expect.objectContaining({ destination_id: destination.id, status: 'skipped' })]);
    const eventId: string = ingested.body.deliveries[0].event_id;
    const delivery = await getDelivery(tenant, eventId);
    expect(delivery).toMatchObject({ status: 'skipped', attempt_count: 0 });
    expect(delivery.last_error).toContain('destination disabled');
    const listed = await tenant.request('GET', tenant.path('/deliveries?status=skipped'));
    expect(listed.body.items.map((item: { event_id: string }) => item.event_id)).toEqual([eventId]);

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.requests).toHaveLength(0);
    const workflows: string[] = [];
    for await (const execution of app.temporal.workflow.list({ query: `AccountId = "${tenant.accountId}"` })) workflows.push(execution.workflowId);
    expect(workflows).toEqual([]);
  });

  it('ends a delivery that was retrying when its destination was disabled as skipped', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(503);
    const destination = await createDestination(tenant, { url: `${receiver.url}/disabled-later`, event_map: { contact: 'Lead' }, retry_policy: { initial_interval_ms: 1_000 } });
    const [eventId] = await ingestContacts(tenant, 1, 'u-traffic');
    await deliveryReaches(tenant, eventId!, ['retrying']);
    await tenant.request('PATCH', destinationPath(tenant, destination.id), { enabled: false });

    const skipped = await deliveryReaches(tenant, eventId!, ['skipped'], 20_000);
    expect(skipped.last_error).toContain('destination is disabled');
    expect(receiver.requests).toHaveLength(1);

    // Kept, so it can be sent once the destination takes webhooks again: same event_id, a new run.
    receiver.replyWith(200);
    await tenant.request('PATCH', destinationPath(tenant, destination.id), { enabled: true });
    const retried = await tenant.request('POST', tenant.path(`/deliveries/${eventId}/retry`));
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    await deliveryReaches(tenant, eventId!, ['sent']);
    expect(receiver.bodiesFor(eventId!)).toHaveLength(2);
  });
});

describe('auto-disable', () => {
  const app = useTestApp({ env: { AUTO_DISABLE_AFTER_MS: '1500', BREAKER_FAILURE_THRESHOLD: '1000' } });

  it('disables a destination failing for longer than the threshold, with the reason, until it is enabled again', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(503);
    const destination = await createDestination(tenant, { url: `${receiver.url}/dying`, event_map: { contact: 'Lead' } });
    const [eventId] = await ingestContacts(tenant, 1, 'u-traffic');

    const disabled = await eventually(async () => {
      const shown = await tenant.request('GET', destinationPath(tenant, destination.id));
      return shown.body.enabled === false ? shown.body : undefined;
    }, 30_000, 'the destination to be disabled');
    expect(disabled.disabled_reason).toMatch(/^failing without a success since .*HTTP 503/);
    expect(disabled.disabled_at).not.toBeNull();
    await deliveryReaches(tenant, eventId!, ['skipped'], 20_000);

    receiver.replyWith(200);
    const enabled = await tenant.request('PATCH', destinationPath(tenant, destination.id), { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });
    expect(enabled.body.health).toMatchObject({ breaker: 'closed', failure_streak: 0, failing_since: null });
    const [next] = await ingestContacts(tenant, 1, 'u-traffic');
    await deliveryReaches(tenant, next!, ['sent']);
  }, 60_000);
});
