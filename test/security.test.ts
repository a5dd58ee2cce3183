import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_PUBLIC_RULE, type HostResolver } from '../src/url-policy/destination-url-policy.js';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { useTestApp } from './support/test-app.js';
import { captureLogs } from './support/captured-logs.js';

/** Every log line the process writes during this file. */
const capturedLogs = captureLogs();

function verifier(secret: string) {
  return new Webhook(secret);
}

function webhookHeaders(request: Receiver['requests'][number]): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

describe('SSRF at connect time', () => {
  const answers = new Map<string, string[]>();
  const resolver: HostResolver = async (hostname) => {
    const addresses = answers.get(hostname);
    if (!addresses) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
  // No exemptions: only public addresses may be reached.
  const app = useTestApp({ env: { WEBHOOK_ALLOWED_CIDRS: '' }, hostResolver: resolver });

  it('refuses a host that resolved to a public address at save and to loopback at send; no byte reaches the receiver, and the error does not echo the address', async () => {
    const receiver = await Receiver.start();
    const port = new URL(receiver.url).port;
    answers.set('rebind.test', ['93.184.216.34']);
    const destination = await createDestination(app, { url: `http://rebind.test:${port}/hook`, event_map: { contact: 'Lead' } });

    answers.set('rebind.test', ['127.0.0.1']);
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-rebind' });
    const delivery = await deliveryReaches(app, response.body.deliveries[0].event_id, ['failed']);

    expect(delivery.attempt_count).toBe(1);
    expect(delivery.last_error).toContain(`destination resolves to a non-public address (${NON_PUBLIC_RULE})`);
    expect(delivery.attempts[0].status_code).toBeNull();
    // What a name resolved to would map internal DNS for whoever can read the deliveries API.
    expect(JSON.stringify(delivery)).not.toContain('127.0.0.1');
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toHaveLength(0);
    await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    await receiver.close();
  });

  it('refuses a host that answers with one public and one private address, naming the rule and not the address', async () => {
    answers.set('mixed.test', ['93.184.216.34', '10.0.0.7']);
    const response = await app.request('POST', app.path('/destinations'), { name: 'mixed', url: 'http://mixed.test/hook', event_map: { contact: 'Lead' } });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe(`url host "mixed.test" resolves to a non-public address (${NON_PUBLIC_RULE})`);
    expect(response.body.message).not.toContain('10.0.0.7');
  });
});

describe('signatures and secrets', () => {
  const app = useTestApp();
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('signs every attempt so the standardwebhooks library verifies it: same id, a new timestamp per attempt', async () => {
    receiver.replyWith({ status: 503, headers: { 'Retry-After': '1' } }, 200);
    const destination = await createDestination(app, { url: `${receiver.url}/signed`, event_map: { contact: 'Lead' } });
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-sig' });
    const eventId = response.body.deliveries[0].event_id;
    await deliveryReaches(app, eventId, ['sent']);

    const attempts = receiver.requests.filter((request) => request.headers['webhook-id'] === eventId);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(verifier(destination.signing_secret).verify(attempt.body, webhookHeaders(attempt))).toMatchObject({ event_id: eventId });
    }
    expect(attempts[1]!.headers['webhook-timestamp']).not.toBe(attempts[0]!.headers['webhook-timestamp']);
    expect(() => verifier(`whsec_${Buffer.from('another secret of enough length').toString('base64')}`).verify(attempts[0]!.body, webhookHeaders(attempts[0]!))).toThrow();
    await app.request('DELETE', app.path(`/destinations/${destination.id}`));
  });

  it('signs with both the new and the previous secret during a rotation, so either verifies', async () => {
    receiver.replyWith(200);
    const destination = await createDestination(app, { url: `${receiver.url}/rotating`, event_map: { contact: 'Lead' } });
    const rotated = await app.request('POST', app.path(`/destinations/${destination.id}/rotate-secret`));
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).not.toBe(destination.signing_secret);

    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-rot' });
    const eventId = response.body.deliveries[0].event_id;
    await deliveryReaches(app, eventId, ['sent']);
    const [request] = receiver.requests.filter((r) => r.headers['webhook-id'] === eventId);
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifier(rotated.body.signing_secret).verify(request!.body, webhookHeaders(request!))).toBeTruthy();
    expect(verifier(destination.signing_secret).verify(request!.body, webhookHeaders(request!))).toBeTruthy();
    await app.request('DELETE', app.path(`/destinations/${destination.id}`));
  });

  it('keeps header values, the signing secret and the API key out of logs, API listings and Temporal history', async () => {
    receiver.replyWith(503, 200);
    const headerSecret = `hdr-${uniqueId('secret')}`;
    const destination = await createDestination(app, {
      url: `${receiver.url}/secret`,
      headers: { 'X-Shared-Secret': headerSecret },
      event_map: { contact: 'Lead' },
      retry_policy: { initial_interval_ms: 200 },
    });
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-secret' });
    const eventId = response.body.deliveries[0].event_id;
    await deliveryReaches(app, eventId, ['sent']);
    expect(receiver.requests.find((r) => r.headers['webhook-id'] === eventId)!.headers['x-shared-secret']).toBe(headerSecret);

    const secrets = [headerSecret, destination.signing_secret, destination.signing_secret.slice('whsec_'.length), app.apiKey];
    const listing = JSON.stringify([
      (await app.request('GET', app.path('/destinations'))).body,
      (await app.request('GET', app.path(`/destinations/${destination.id}`))).body,
      (await app.request('GET', app.path(`/deliveries/${eventId}`))).body,
      (await app.request('GET', app.path(`/deliveries?destination_id=${destination.id}`))).body,
    ]);
    const history = JSON.stringify(await app.temporal.workflow.getHandle(`delivery-${eventId}`).fetchHistory());
    const logs = capturedLogs.join('');
    expect(logs).toContain(eventId);
    for (const secret of secrets) {
      expect(listing).not.toContain(secret);
      expect(history).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    await app.request('DELETE', app.path(`/destinations/${destination.id}`));
  });
});

describe('API hardening', () => {
  // The rate limits are tested in auth.test.ts, next to the authentication they key on.
  const app = useTestApp();

  it('sends security headers and no X-Powered-By', async () => {
    const response = await fetch(`${app.baseUrl}/health`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
