import { afterEach, describe, expect, it } from 'vitest';
import { Receiver, type ReceiverReply } from './support/receiver.js';
import { createDestination, deliveryReaches, getDelivery, uniqueId } from './support/fixtures.js';
import { useTestApp } from './support/test-app.js';

/** What a masked secret reads as in a stored response excerpt (documented in docs/SECURITY.md). */
const MASK = '********';
/** A custom header value with characters JSON escapes, so a JSON echo does not hold it verbatim. */
const HEADER_SECRET = 'hdr-s3cr3t"quoted\\back';
const JSON_ESCAPED_HEADER_SECRET = JSON.stringify(HEADER_SECRET).slice(1, -1);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('delivery against hostile or broken receivers', () => {
  const app = useTestApp();
  let destinationId: string | undefined;
  let receiver: Receiver | undefined;

  // Each test owns one destination and one receiver; removing the destination keeps later events from matching it.
  afterEach(async () => {
    if (destinationId) await app.request('DELETE', app.path(`/destinations/${destinationId}`));
    await receiver?.close();
    destinationId = undefined;
    receiver = undefined;
  });

  async function freshReceiver(replies: Array<number | ReceiverReply>, fields: Record<string, unknown> = {}): Promise<Receiver> {
    receiver = await Receiver.start();
    receiver.replyWith(...replies);
    const destination = await createDestination(app, {
      url: `${receiver.url}/hook`,
      headers: { 'X-Shared-Secret': HEADER_SECRET },
      event_map: { contact: 'Contact' },
      retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 },
      ...fields,
    });
    destinationId = destination.id;
    return receiver;
  }

  async function ingestContact(): Promise<string> {
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.deliveries).toHaveLength(1);
    expect(response.body.deliveries[0].destination_id).toBe(destinationId);
    return response.body.deliveries[0].event_id;
  }

  /** Every form of the signature header a receiver could echo: the whole value, each signature, each bare base64 part. */
  function signatureParts(signatureHeader: string): string[] {
    const signatures = signatureHeader.split(' ');
    return [signatureHeader, ...signatures, ...signatures.map((signature) => signature.slice(signature.indexOf(',') + 1))];
  }

  describe('response excerpts that echo the request', () => {
    it('masks the custom header value and the signature in an excerpt that echoes the headers verbatim', async () => {
      const receiver = await freshReceiver([{ status: 200, echoHeaders: 'text' }]);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed']);
      expect(delivery.status).toBe('sent');
      expect(receiver.requests).toHaveLength(1);
      const excerpt: string = delivery.attempts[0].response_body;
      const signature = String(receiver.requests[0]!.headers['webhook-signature']);
      expect(excerpt).not.toContain(HEADER_SECRET);
      for (const part of signatureParts(signature)) expect(excerpt).not.toContain(part);
      expect(excerpt).toContain(`x-shared-secret: ${MASK}`);
      expect(excerpt).toContain(`webhook-signature: ${MASK}`);
      // Only the secrets go: the rest of the echo stays readable for operators.
      expect(excerpt).toContain(`webhook-id: ${eventId}`);
    });

    it('masks the custom header value and the signature in an excerpt that echoes the headers as JSON', async () => {
      const receiver = await freshReceiver([{ status: 200, echoHeaders: 'json' }]);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed']);
      expect(delivery.status).toBe('sent');
      expect(receiver.requests).toHaveLength(1);
      const excerpt: string = delivery.attempts[0].response_body;
      expect(excerpt).not.toContain(HEADER_SECRET);
      expect(excerpt).not.toContain(JSON_ESCAPED_HEADER_SECRET);
      for (const part of signatureParts(String(receiver.requests[0]!.headers['webhook-signature']))) expect(excerpt).not.toContain(part);
      const echoed = JSON.parse(excerpt).headers;
      expect(echoed['x-shared-secret']).toBe(MASK);
      expect(echoed['webhook-signature']).toBe(MASK);
      expect(echoed['webhook-id']).toBe(eventId);
    });

    it('masks both signatures while a rotated signing secret still signs', async () => {
      const receiver = await freshReceiver([{ status: 200, echoHeaders: 'json' }]);
      const rotated = await app.request('POST', app.path(`/destinations/${destinationId}/rotate-secret`));
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed']);
      expect(delivery.status).toBe('sent');
      const signature = String(receiver.requests[0]!.headers['webhook-signature']);
      expect(signature.split(' ')).toHaveLength(2);
      const excerpt: string = delivery.attempts[0].response_body;
      for (const part of signatureParts(signature)) expect(excerpt).not.toContain(part);
      expect(JSON.parse(excerpt).headers['webhook-signature']).toBe(MASK);
    });
  });

  describe('response bytes PostgreSQL text cannot hold', () => {
    it('records a 2xx whose body holds NUL bytes and invalid UTF-8 once, with those bytes replaced, and sends it only once', async () => {
      const body = Buffer.concat([Buffer.from('accepted'), Buffer.from([0x00]), Buffer.from('id'), Buffer.from([0xff, 0xfe]), Buffer.from('end')]);
      const receiver = await freshReceiver([{ status: 200, body }]);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed'], 15_000);
      expect(delivery.status).toBe('sent');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0].status_code).toBe(200);
      expect(delivery.attempts[0].response_body).toBe('accepted\uFFFDid\uFFFD\uFFFDend');
      // Longer than the 200 ms backoff: a repeated send would have arrived by now.
      await pause(1000);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe('Retry-After asking for no wait', () => {
    // The floor is max(RETRY_MIN_INTERVAL_MS = 100 in tests, the destination's initial interval).
    const FLOOR_MS = 1000;

    it.each([
      ['Retry-After: 0', '0'],
      ['a Retry-After date in the past', 'Thu, 01 Jan 2015 00:00:00 GMT'],
    ])('waits at least the retry floor after a 503 with %s, then ends sent on the 200', async (_name, retryAfter) => {
      const receiver = await freshReceiver([{ status: 503, headers: { 'Retry-After': retryAfter } }, 200], {
        retry_policy: { initial_interval_ms: FLOOR_MS, max_interval_ms: 2 * FLOOR_MS },
      });
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed']);
      expect(delivery.status).toBe('sent');
      expect(delivery.attempt_count).toBe(2);
      expect(delivery.attempts.map((attempt: { status_code: number }) => attempt.status_code)).toEqual([503, 200]);
      expect(receiver.requests).toHaveLength(2);
      const [first, second] = receiver.requests;
      expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(FLOOR_MS);
    });
  });

  describe('header values the HTTP client refuses to send', () => {
    it.each([
      ['a control character', 'bad\u0001value'],
      ['DEL', 'bad\u007fvalue'],
      ['a code point above U+00FF', 'bad\u0100value'],
    ])('fails the delivery after one attempt, without retrying, when a stored header value holds %s', async (_name, value) => {
      const receiver = await freshReceiver([200]);
      // Straight into the database: the API refuses such values, but rows written before it did may hold them.
      await app.dataSource.query(`UPDATE destinations SET headers = $2::jsonb WHERE id = $1`, [destinationId, JSON.stringify({ 'X-Shared-Secret': value })]);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed'], 15_000);
      expect(delivery.status).toBe('failed');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.attempts[0].status_code).toBeNull();
      expect(delivery.last_error).toContain('InvalidRequest');
      expect(delivery.last_error).not.toContain(value);
      expect(receiver.requests).toHaveLength(0);
    });
  });

  describe('a body that arrives slowly or breaks off after the status line', () => {
    it('keeps a 2xx whose body trickles past the attempt timeout as sent after one attempt', async () => {
      const receiver = await freshReceiver([{ status: 200, trickle: { chunk: 'tick ', intervalMs: 100, count: 100, then: 'end' } }], { timeout_ms: 3000 });
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed'], 20_000);
      expect(delivery.status).toBe('sent');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.attempts[0]).toMatchObject({ status_code: 200, error: null });
      // What arrived within the excerpt budget is kept; the attempt ended well before its 3 s timeout.
      expect(delivery.attempts[0].response_body).toMatch(/^(tick )+$/);
      expect(delivery.attempts[0].duration_ms).toBeLessThan(2500);
      await pause(1000);
      expect(receiver.requests).toHaveLength(1);
    });

    it('never reads an excerpt past the attempt timeout', async () => {
      await freshReceiver([{ status: 200, trickle: { chunk: 'tick ', intervalMs: 50, count: 100, then: 'end' } }], { timeout_ms: 500 });
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed'], 20_000);
      expect(delivery.status).toBe('sent');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.attempts[0].duration_ms).toBeLessThan(900);
    });

    it('keeps a 2xx whose connection resets in the middle of the body as sent after one attempt', async () => {
      const receiver = await freshReceiver([{ status: 200, trickle: { chunk: 'partial ', intervalMs: 20, count: 3, then: 'reset' } }, 200]);
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed']);
      expect(delivery.status).toBe('sent');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.attempts[0]).toMatchObject({ status_code: 200, error: null, response_body: 'partial partial partial ' });
      await pause(1000);
      expect(receiver.requests).toHaveLength(1);
    });

    it('decides a 400 whose body trickles past the attempt timeout by its status: failed after one attempt', async () => {
      const receiver = await freshReceiver([{ status: 400, trickle: { chunk: 'nope ', intervalMs: 100, count: 100, then: 'end' } }], { timeout_ms: 3000 });
      const eventId = await ingestContact();

      const delivery = await deliveryReaches(app, eventId, ['sent', 'failed'], 20_000);
      expect(delivery.status).toBe('failed');
      expect(delivery.attempt_count).toBe(1);
      expect(delivery.last_status_code).toBe(400);
      expect(delivery.attempts[0].error).toContain('PermanentHttpStatus');
      expect(delivery.attempts[0].response_body).toMatch(/^(nope )+$/);
      await pause(1000);
      expect(receiver.requests).toHaveLength(1);
      expect((await getDelivery(app, eventId)).attempt_count).toBe(1);
    });
  });
});
