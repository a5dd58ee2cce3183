import { afterEach, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp } from './support/test-app.js';

describe('webhook delivery to a real receiver', () => {
  const app = useTestApp();
  let receiver: Receiver;
  let destinationId: string;

  // Each test owns one destination; removing it keeps later events from matching it.
  afterEach(async () => {
    if (destinationId) await app.request('DELETE', app.path(`/destinations/${destinationId}`));
  });

  async function freshReceiver(...replies: Parameters<Receiver['replyWith']>): Promise<{ receiver: Receiver; destinationId: string }> {
    receiver = await Receiver.start();
    receiver.replyWith(...(replies.length ? replies : [200]));
    const destination = await createDestination(app, {
      url: `${receiver.url}/hook`,
      headers: { 'X-Shared-Secret': 'receiver-secret' },
      event_map: { deposit: 'Purchase', registration: 'CompleteRegistration', contact: 'Contact' },
      retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 },
    });
    destinationId = destination.id;
    return { receiver, destinationId };
  }

  async function ingest(body: Record<string, unknown>): Promise<string> {
    const response = await app.request('POST', app.path('/events'), body);
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.deliveries).toHaveLength(1);
    expect(response.body.deliveries[0].destination_id).toBe(destinationId);
    return response.body.deliveries[0].event_id;
  }

  it('sends a deposit with full click context exactly in the documented shape', async () => {
    const { receiver } = await freshReceiver(200);
    const uid = uniqueId('uid');
    await app.request('POST', app.path('/clicks'), { uid, tg_id: 555123, fbclid: 'IwAR-test', campaign_id: '120001', campaign_name: 'promoX', country: 'IN' });
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'deposit', uid, occurred_at_ms: 1765432100000, data: { value: '25.00', currency: 'USD' } });

    await deliveryReaches(app, eventId, ['sent']);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-shared-secret']).toBe('receiver-secret');
    expect(JSON.parse(request!.body)).toStrictEqual({
      event: 'Purchase',
      canonical: 'deposit',
      event_id: eventId,
      occurred_at_ms: 1765432100000,
      click: { uid, tg_id: 555123, fbclid: 'IwAR-test', campaign_id: '120001', campaign_name: 'promoX', country: 'IN' },
      data: { value: '25.00', currency: 'USD' },
    });
    expect(Object.keys(JSON.parse(request!.body))).toEqual(['event', 'canonical', 'event_id', 'occurred_at_ms', 'click', 'data']);
    await receiver.close();
  });

  it('sends an event whose uid has partial click context with the unknown fields null', async () => {
    const { receiver } = await freshReceiver(200);
    const uid = uniqueId('uid');
    await app.request('POST', app.path('/clicks'), { uid, fbclid: 'IwAR-only' });
    const before = Date.now();
    const eventId = await ingest({ canonical: 'registration', uid });

    await deliveryReaches(app, eventId, ['sent']);
    const body = JSON.parse(receiver.requests[0]!.body);
    expect(body).toMatchObject({
      event: 'CompleteRegistration',
      canonical: 'registration',
      event_id: eventId,
      click: { uid, tg_id: null, fbclid: 'IwAR-only', campaign_id: null, campaign_name: null, country: null },
      data: {},
    });
    expect(body.occurred_at_ms).toBeGreaterThanOrEqual(before);
    expect(body.occurred_at_ms).toBeLessThanOrEqual(Date.now());
    await receiver.close();
  });

  it('retries 503, 503 then 200 with the same event_id and identical body, ending sent after three attempts', async () => {
    const { receiver } = await freshReceiver(503, 503, 200);
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    const delivery = await deliveryReaches(app, eventId, ['sent']);
    expect(delivery.attempt_count).toBe(3);
    expect(delivery.attempts.map((attempt: { status_code: number }) => attempt.status_code)).toEqual([503, 503, 200]);
    const bodies = receiver.bodiesFor(eventId);
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!).event_id).toBe(eventId);
    await receiver.close();
  });

  it('waits at least the Retry-After seconds a 429 asks for before the next attempt', async () => {
    const { receiver } = await freshReceiver({ status: 429, headers: { 'Retry-After': '2' } }, 200);
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    await deliveryReaches(app, eventId, ['sent']);
    const [first, second] = receiver.requests;
    expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(1900);
    await receiver.close();
  });

  it('stops after one attempt when the receiver answers 400, status failed', async () => {
    const { receiver } = await freshReceiver(400);
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    const delivery = await deliveryReaches(app, eventId, ['failed']);
    expect(delivery.attempt_count).toBe(1);
    expect(delivery.last_status_code).toBe(400);
    // Longer than the 200 ms backoff: a retry would have arrived by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });

  it('does not follow a 301 redirect and marks the delivery failed', async () => {
    const target = await Receiver.start();
    const { receiver } = await freshReceiver({ status: 301, headers: { Location: `${target.url}/elsewhere` } });
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    const delivery = await deliveryReaches(app, eventId, ['failed']);
    expect(delivery.last_status_code).toBe(301);
    expect(delivery.last_error).toContain('redirects are not followed');
    expect(receiver.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    await Promise.all([receiver.close(), target.close()]);
  });

  it('retries an attempt whose receiver hangs past the timeout', async () => {
    receiver = await Receiver.start();
    receiver.replyWith({ hang: true }, 200);
    destinationId = (
      await createDestination(app, {
        url: `${receiver.url}/slow`,
        event_map: { contact: 'Contact' },
        timeout_ms: 500,
        retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 },
      })
    ).id;
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    const delivery = await deliveryReaches(app, eventId, ['sent']);
    expect(delivery.attempts[0].status_code).toBeNull();
    expect(delivery.attempts[0].error).toContain('AttemptTimeout');
    expect(delivery.attempts[1].status_code).toBe(200);
    await eventually(() => (receiver.requests.length === 2 ? true : undefined));
    await receiver.close();
  });

  it('keeps only the first 16 KiB of a large response body on the attempt', async () => {
    const { receiver } = await freshReceiver({ status: 500, body: 'x'.repeat(40 * 1024) }, 200);
    const eventId = await ingest({ id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });

    const delivery = await deliveryReaches(app, eventId, ['sent']);
    expect(delivery.attempts[0].status_code).toBe(500);
    expect(delivery.attempts[0].response_body).toHaveLength(16 * 1024);
    await receiver.close();
  });
});
