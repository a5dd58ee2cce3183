import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import type { OperationalNotification } from '../contract/operational-notifier.js';
import { OperationalNotificationRepository } from '../src/operational-webhooks/operational-notification.repository.js';
import { OperationalNotifications } from '../src/operational-webhooks/operational-notifications.js';
import { buildOperationalPayload } from '../src/operational-webhooks/operational-payload.js';
import { UndispatchedOperationalNotificationSweeper } from '../src/operational-webhooks/undispatched-operational-notification-sweeper.js';
import { bearer } from './support/accounts.js';
import { createAccount, createAccountKey, uniqueId } from './support/fixtures.js';
import { Receiver, type ReceivedRequest } from './support/receiver.js';
import { eventually, useTestApp } from './support/test-app.js';

const OCCURRED_AT_MS = 1_765_432_100_000;

interface NotificationRow {
  id: string;
  status: string;
  attempt_count: number;
  last_status_code: number | null;
  last_error: string | null;
  dispatched: boolean;
}

describe('operational webhooks', () => {
  const app = useTestApp();
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  /** A receiver per test: its reply script counts the requests it has seen. */
  async function freshReceiver(...replies: Parameters<Receiver['replyWith']>): Promise<Receiver> {
    const receiver = await Receiver.start();
    receivers.push(receiver.replyWith(...(replies.length > 0 ? replies : [200])));
    return receiver;
  }

  /** A fresh account whose operational webhook is the receiver; returns it with the secret shown once. */
  async function accountWithOperationalWebhook(receiver: Receiver): Promise<{ accountId: string; secret: string }> {
    const accountId = await createAccount(app);
    const response = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'ops', operational_webhook_url: `${receiver.url}/ops` });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return { accountId, secret: response.body.operational_webhook_secret };
  }

  const notifier = () => app.nest.get(OperationalNotifications, { strict: false });

  function failing(accountId: string, key = uniqueId('destination.failing')): OperationalNotification {
    return { accountId, type: 'destination.failing', key, occurredAtMs: OCCURRED_AT_MS, data: { destination_id: 'dest-1', consecutive_failures: 5 } };
  }

  async function rowsOf(accountId: string): Promise<NotificationRow[]> {
    return app.dataSource.query(
      `SELECT id, status, attempt_count, last_status_code, last_error, dispatched_at IS NOT NULL AS dispatched
         FROM operational_notifications WHERE account_id = $1 ORDER BY created_at`,
      [accountId],
    );
  }

  function rowReaches(accountId: string, status: string): Promise<NotificationRow> {
    return eventually(async () => (await rowsOf(accountId)).find((row) => row.status === status), 20_000, `a notification of ${accountId} to become ${status}`);
  }

  function requestsReach(receiver: Receiver, count: number): Promise<ReceivedRequest[]> {
    return eventually(() => (receiver.requests.length >= count ? receiver.requests : undefined), 20_000, `${count} requests at the receiver`);
  }

  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('returns the operational webhook secret in the PUT that sets the first URL, and never again', async () => {
    const receiver = await freshReceiver();
    const accountId = await createAccount(app);

    const first = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'ops', operational_webhook_url: `${receiver.url}/ops` });
    expect(first.status).toBe(200);
    expect(first.body.operational_webhook_url).toBe(`${receiver.url}/ops`);
    expect(first.body.operational_webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const moved = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'ops', operational_webhook_url: `${receiver.url}/moved` });
    expect(moved.status).toBe(200);
    expect(moved.body.operational_webhook_url).toBe(`${receiver.url}/moved`);
    expect(moved.body).not.toHaveProperty('operational_webhook_secret');
  });

  it('never shows the secret in GET responses, to service keys or account keys', async () => {
    const receiver = await freshReceiver();
    const { accountId, secret } = await accountWithOperationalWebhook(receiver);
    const accountKey = await createAccountKey(app, accountId, ['read']);

    const responses = [
      await app.request('GET', `/v1/accounts/${accountId}`),
      await app.request('GET', `/v1/accounts/${accountId}`, undefined, bearer(accountKey)),
      await app.request('GET', '/v1/accounts?limit=200'),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.replace(/^whsec_/, ''));
      expect(text).not.toContain('operational_webhook_secret');
    }
    expect(responses[0]!.body.operational_webhook_url).toBe(`${receiver.url}/ops`);
  });

  it('refuses a non-public operational_webhook_url with a 400 naming the problem, and keeps the account as it was', async () => {
    const accountId = await createAccount(app);
    const refused = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'renamed', operational_webhook_url: 'http://10.1.2.3/ops' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^operational_webhook_url host is not public: /);

    const account = await app.request('GET', `/v1/accounts/${accountId}`);
    expect(account.body).toMatchObject({ name: `account ${accountId}`, operational_webhook_url: null });
  });

  it('refuses an operational_webhook_url that is not http(s), naming the field', async () => {
    const accountId = await createAccount(app);
    const refused = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'ops', operational_webhook_url: 'ftp://127.0.0.1/ops' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('operational_webhook_url scheme must be http or https');
  });

  it('sends a destination.failing notification whose Standard Webhooks signature verifies with the returned secret', async () => {
    const receiver = await freshReceiver(200);
    const { accountId, secret } = await accountWithOperationalWebhook(receiver);

    await notifier().notify(failing(accountId));

    const [request] = await requestsReach(receiver, 1);
    const [row] = await rowsOf(accountId);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/ops');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toBe(row!.id);
    expect(request!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(request!.body).toBe(
      JSON.stringify({ type: 'destination.failing', timestamp: '2025-12-11T05:48:20.000Z', data: { destination_id: 'dest-1', consecutive_failures: 5 } }),
    );
    const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(verified).toStrictEqual(JSON.parse(request!.body));
    expect(await rowReaches(accountId, 'sent')).toMatchObject({ attempt_count: 1, last_status_code: 200, last_error: null, dispatched: true });
  });

  it('sends notifications outside the delivery path: no delivery row and no delivery workflow', async () => {
    const receiver = await freshReceiver(200);
    const { accountId } = await accountWithOperationalWebhook(receiver);
    await notifier().notify(failing(accountId));
    await requestsReach(receiver, 1);
    const [row] = await rowsOf(accountId);

    expect(await app.dataSource.query(`SELECT 1 FROM deliveries WHERE account_id = $1`, [accountId])).toHaveLength(0);
    const description = await app.temporal.workflow.getHandle(`operational-${row!.id}`).describe();
    expect(description.type).toBe('operationalWebhookWorkflow');
    expect(description.taskQueue).toBe(app.config.temporal.taskQueue);
  });

  it('retries a notification answered 503, with the same webhook-id and body, until it is accepted', async () => {
    const receiver = await freshReceiver(503, 200);
    const { accountId, secret } = await accountWithOperationalWebhook(receiver);

    await notifier().notify(failing(accountId));

    const [first, second] = await requestsReach(receiver, 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
    expect(() => new Webhook(secret).verify(second!.body, second!.headers as Record<string, string>)).not.toThrow();
    expect(await rowReaches(accountId, 'sent')).toMatchObject({ attempt_count: 2, last_status_code: 200 });
    await settle(1_000);
    expect(receiver.requests).toHaveLength(2);
  });

  it('waits as long as Retry-After asks before the next attempt', async () => {
    const receiver = await freshReceiver({ status: 429, headers: { 'retry-after': '2' } }, 200);
    const { accountId } = await accountWithOperationalWebhook(receiver);

    await notifier().notify(failing(accountId));

    const [first, second] = await requestsReach(receiver, 2);
    // Without the header the next attempt would come after the test's 200 ms backoff.
    expect(second!.receivedAtMs - first!.receivedAtMs).toBeGreaterThanOrEqual(1_900);
    await rowReaches(accountId, 'sent');
  });

  it('stops at a 404 and records the notification as failed with the status', async () => {
    const receiver = await freshReceiver(404);
    const { accountId } = await accountWithOperationalWebhook(receiver);

    await notifier().notify(failing(accountId));

    const failed = await rowReaches(accountId, 'failed');
    expect(failed).toMatchObject({ attempt_count: 1, last_status_code: 404, last_error: 'receiver answered HTTP 404' });
    await settle(1_000);
    expect(receiver.requests).toHaveLength(1);
    const { status } = await app.temporal.workflow.getHandle(`operational-${failed.id}`).describe();
    expect(status.name).toBe('FAILED');
  });

  it('sends a notification whose key was raised twice once', async () => {
    const receiver = await freshReceiver(200);
    const { accountId } = await accountWithOperationalWebhook(receiver);
    const notification = failing(accountId);

    await notifier().notify(notification);
    await notifier().notify(notification);
    await Promise.all([notifier().notify(notification), notifier().notify(notification)]);

    await requestsReach(receiver, 1);
    await rowReaches(accountId, 'sent');
    await settle(1_500);
    expect(receiver.requests).toHaveLength(1);
    expect(await rowsOf(accountId)).toHaveLength(1);
  });

  it('stores nothing for an account without an operational webhook', async () => {
    const accountId = await createAccount(app);
    await notifier().notify(failing(accountId));
    expect(await rowsOf(accountId)).toEqual([]);
  });

  it('ends a notification as failed, with the reason, when the account removes its URL before it is sent', async () => {
    const receiver = await freshReceiver(503);
    const { accountId } = await accountWithOperationalWebhook(receiver);
    await notifier().notify(failing(accountId));
    await requestsReach(receiver, 1);

    const removed = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'ops', operational_webhook_url: null });
    expect(removed.status).toBe(200);
    expect(removed.body.operational_webhook_url).toBeNull();

    const failed = await rowReaches(accountId, 'failed');
    expect(failed.last_error).toBe('the account removed its operational_webhook_url before the notification was sent');
    const sentSoFar = receiver.requests.length;
    await settle(1_500);
    expect(receiver.requests).toHaveLength(sentSoFar);
  });

  it('starts a stored notification whose workflow was never started from the sweep', async () => {
    const receiver = await freshReceiver(200);
    const { accountId } = await accountWithOperationalWebhook(receiver);
    // As notify leaves it when Temporal is unavailable: stored, never dispatched, now past the sweep's grace.
    const stored = await app.nest.get(OperationalNotificationRepository, { strict: false }).insertOnce({
      accountId,
      key: uniqueId('delivery.exhausted'),
      type: 'delivery.exhausted',
      payload: buildOperationalPayload({ type: 'delivery.exhausted', occurredAtMs: OCCURRED_AT_MS, data: { event_id: 'evt-1' } }),
    });
    await app.dataSource.query(`UPDATE operational_notifications SET created_at = now() - interval '1 minute' WHERE id = $1`, [stored.id]);

    expect(await app.nest.get(UndispatchedOperationalNotificationSweeper, { strict: false }).sweep()).toBeGreaterThanOrEqual(1);

    const [request] = await requestsReach(receiver, 1);
    expect(request!.headers['webhook-id']).toBe(stored.id);
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'delivery.exhausted', data: { event_id: 'evt-1' } });
    expect(await rowReaches(accountId, 'sent')).toMatchObject({ dispatched: true });
  });

  it('rotates the secret: the new one is shown once and notifications verify with the new and the previous one', async () => {
    const receiver = await freshReceiver(200);
    const { accountId, secret: previous } = await accountWithOperationalWebhook(receiver);

    const rotated = await app.request('POST', `/v1/accounts/${accountId}/operational-webhook/rotate-secret`);
    expect(rotated.status).toBe(200);
    const { operational_webhook_secret: current, previous_secret_expires_at: expiresAt } = rotated.body;
    expect(current).toMatch(/^whsec_/);
    expect(current).not.toBe(previous);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());

    await notifier().notify(failing(accountId));
    const [request] = await requestsReach(receiver, 1);
    const headers = request!.headers as Record<string, string>;
    expect(() => new Webhook(current).verify(request!.body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(request!.body, headers)).not.toThrow();
  });

  it('lets an account key with manage rotate the secret, and refuses one with read only', async () => {
    const receiver = await freshReceiver();
    const { accountId } = await accountWithOperationalWebhook(receiver);
    const path = `/v1/accounts/${accountId}/operational-webhook/rotate-secret`;

    const reader = await app.request('POST', path, undefined, bearer(await createAccountKey(app, accountId, ['read'])));
    expect(reader.status).toBe(403);
    const manager = await app.request('POST', path, undefined, bearer(await createAccountKey(app, accountId, ['manage'])));
    expect(manager.status).toBe(200);
    expect(manager.body.operational_webhook_secret).toMatch(/^whsec_/);
  });

  it('answers 409 to a rotation while the account has no operational webhook', async () => {
    const accountId = await createAccount(app);
    const refused = await app.request('POST', `/v1/accounts/${accountId}/operational-webhook/rotate-secret`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/no operational_webhook_url/);
  });
});
