import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp } from './support/test-app.js';

/** Test events through the real delivery path, to real receivers on loopback. */

const receivers: Receiver[] = [];
async function freshReceiver(...replies: Parameters<Receiver['replyWith']>): Promise<Receiver> {
  const receiver = (await Receiver.start()).replyWith(...replies);
  receivers.push(receiver);
  return receiver;
}
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

describe('test events', () => {
  const app = useTestApp();

  it("arrive in the seed's exact shape, signed, with webhook-test: true, and are listed with test: true", async () => {
    const receiver = await freshReceiver(200);
    const destination = await createDestination(app, { url: `${receiver.url}/test`, event_map: { deposit: 'Purchase', contact: 'Lead' } });

    const sent = await app.request('POST', app.path(`/destinations/${destination.id}/test`), { canonical: 'deposit' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect(sent.body).toMatchObject({ destination_id: destination.id, canonical: 'deposit', event: 'Purchase', status: 'pending', test: true });
    const eventId: string = sent.body.event_id;
    expect(eventId).toMatch(/^[0-9a-f]{32}$/);
    expect(sent.body.workflow_id).toBe(`delivery-${eventId}`);

    await eventually(() => receiver.requests[0], 30_000, 'the test event');
    const [request] = receiver.requests;
    expect(request!.headers['webhook-test']).toBe('true');
    expect(request!.headers['webhook-id']).toBe(eventId);
    expect(() => new Webhook(destination.signing_secret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();
    const body = JSON.parse(request!.body);
    // Field for field, in the seed's order: only the values say it is a test.
    expect(Object.keys(body)).toEqual(['event', 'canonical', 'event_id', 'occurred_at_ms', 'click', 'data']);
    expect(Object.keys(body.click)).toEqual(['uid', 'tg_id', 'fbclid', 'campaign_id', 'campaign_name', 'country']);
    expect(body).toMatchObject({ event: 'Purchase', canonical: 'deposit', event_id: eventId, data: { value: '1.00', currency: 'USD' } });
    expect(body.click.uid).toBe('test-uid');
    expect(typeof body.occurred_at_ms).toBe('number');

    const delivery = await deliveryReaches(app, eventId, ['sent']);
    expect(delivery).toMatchObject({ test: true, status: 'sent', attempt_count: 1 });
    const listed = await app.request('GET', app.path(`/deliveries?destination_id=${destination.id}`));
    expect(listed.body.items).toEqual([expect.objectContaining({ event_id: eventId, test: true })]);
  });

  it('leaves real deliveries unmarked', async () => {
    const receiver = await freshReceiver(200);
    const destination = await createDestination(app, { url: `${receiver.url}/real`, event_map: { contact: 'Lead' } });
    const ingested = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });
    const eventId = ingested.body.deliveries.find((d: { destination_id: string }) => d.destination_id === destination.id).event_id;
    expect((await deliveryReaches(app, eventId, ['sent'])).test).toBe(false);
    expect(receiver.requests[0]!.headers['webhook-test']).toBeUndefined();
  });

  it("do not change the destination's health, where a real failure does", async () => {
    const receiver = await freshReceiver(503);
    const retry_policy = { initial_interval_ms: 100, max_interval_ms: 100, max_attempts: 3 };
    const tested = await createDestination(app, { url: `${receiver.url}/tested`, event_map: { contact: 'Lead' }, retry_policy });
    const sent = await app.request('POST', app.path(`/destinations/${tested.id}/test`), { canonical: 'contact' });
    expect(sent.status).toBe(202);
    const failed = await deliveryReaches(app, sent.body.event_id, ['failed']);
    expect(failed.attempt_count).toBe(3);
    const health = (await app.request('GET', app.path(`/destinations/${tested.id}`))).body.health;
    expect(health).toMatchObject({ breaker: 'closed', failure_streak: 0, failing_since: null, last_failure_at: null });

    // The same failures from a real event count: the assertion above is not vacuous.
    const real = await createDestination(app, { url: `${receiver.url}/real`, event_map: { registration: 'Reg' }, retry_policy });
    const ingested = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'registration', uid: uniqueId('uid') });
    await deliveryReaches(app, ingested.body.deliveries[0].event_id, ['failed']);
    const realHealth = (await app.request('GET', app.path(`/destinations/${real.id}`))).body.health;
    expect(realHealth.failure_streak).toBe(3);
    expect(realHealth.last_failure_at).not.toBeNull();
  });

  it('refuses a canonical event the destination does not map, or that does not exist, and an unknown destination', async () => {
    const destination = await createDestination(app, { url: 'http://127.0.0.1:9/none', event_map: { deposit: 'Purchase' } });
    const unmapped = await app.request('POST', app.path(`/destinations/${destination.id}/test`), { canonical: 'contact' });
    expect(unmapped.status).toBe(400);
    expect(unmapped.body.message).toContain('event_map');
    const unknown = await app.request('POST', app.path(`/destinations/${destination.id}/test`), { canonical: 'purchase' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.message)).toContain('canonical');
    const missing = await app.request('POST', app.path(`/destinations/${destination.id}/test`), {});
    expect(missing.status).toBe(400);
    const absent = await app.request('POST', app.path('/destinations/00000000-0000-4000-8000-000000000000/test'), { canonical: 'deposit' });
    expect(absent.status).toBe(404);
  });
});
