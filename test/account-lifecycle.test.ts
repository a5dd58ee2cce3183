import { afterAll, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { uniqueId } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

/** A fresh account of its own per test, so no test sees another's deliveries. */
async function newAccount(app: TestApp): Promise<string> {
  const accountId = uniqueId('acct').replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64);
  const created = await app.request('PUT', `/v1/accounts/${accountId}`, { name: `account ${accountId}`, enabled: true });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return accountId;
}

async function destinationIn(app: TestApp, accountId: string, url: string, fields: Record<string, unknown> = {}): Promise<string> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/destinations`, { name: 'lifecycle', url, event_map: { contact: 'Lead' }, ...fields });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.id;
}

async function ingestContact(app: TestApp, accountId: string): Promise<string> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: 'u-lifecycle' });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.deliveries[0].event_id;
}

async function workflowIdsOfAccount(app: TestApp, accountId: string, status?: string): Promise<string[]> {
  const ids: string[] = [];
  const query = `AccountId = "${accountId}"${status ? ` AND ExecutionStatus = "${status}"` : ''}`;
  for await (const execution of app.temporal.workflow.list({ query })) ids.push(execution.workflowId);
  return ids.sort();
}

describe('accounts in Temporal and over their lifetime', () => {
  const app = useTestApp();
  /** A receiver per test: its reply script counts the requests it has seen. */
  const receivers: Receiver[] = [];
  const freshReceiver = async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    return receiver;
  };
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  it("finds exactly an account's delivery workflows with an AccountId query, and names the account in the memo", async () => {
    const receiver = (await freshReceiver()).replyWith(200);
    const [mine, other] = [await newAccount(app), await newAccount(app)];
    await destinationIn(app, mine, `${receiver.url}/mine`);
    await destinationIn(app, other, `${receiver.url}/other`);
    const ours = [await ingestContact(app, mine), await ingestContact(app, mine)].map((eventId) => `delivery-${eventId}`).sort();
    await ingestContact(app, other);

    const found = await eventually(async () => {
      const ids = await workflowIdsOfAccount(app, mine);
      return ids.length === ours.length ? ids : undefined;
    }, 15_000, 'visibility to list the account workflows');
    expect(found).toEqual(ours);
    const description = await app.temporal.workflow.getHandle(ours[0]!).describe();
    expect(await description.memo).toMatchObject({ account_id: mine });
  });

  it('holds the deliveries of a disabled account without spending an attempt, and sends them once it is enabled again', async () => {
    const receiver = (await freshReceiver()).replyWith(503, 200);
    const accountId = await newAccount(app);
    await destinationIn(app, accountId, `${receiver.url}/held`, { retry_policy: { initial_interval_ms: 1000, max_interval_ms: 1000 } });
    const eventId = await ingestContact(app, accountId);
    // The first attempt is answered 503, so the delivery waits in backoff when the account is disabled.
    await eventually(async () => ((await app.request('GET', `/v1/accounts/${accountId}/deliveries/${eventId}`)).body.attempt_count === 1 ? true : undefined));
    expect((await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'disabled', enabled: false })).status).toBe(200);
    expect(await app.dataSource.query(`SELECT enabled FROM accounts WHERE id = $1`, [accountId])).toEqual([{ enabled: false }]);

    // Well past the backoff: no request goes out and no attempt is spent while the account is disabled.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const held = (await app.request('GET', `/v1/accounts/${accountId}/deliveries/${eventId}`)).body;
    expect(held.status).toBe('retrying');
    expect(held.attempt_count).toBe(1);
    expect(receiver.requests.filter((request) => request.headers['webhook-id'] === eventId)).toHaveLength(1);

    const enabledAt = Date.now();
    expect((await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'enabled again', enabled: true })).status).toBe(200);
    const sent = await eventually(async () => {
      const delivery = (await app.request('GET', `/v1/accounts/${accountId}/deliveries/${eventId}`)).body;
      return delivery.status === 'sent' ? delivery : undefined;
    }, 20_000, 'the held delivery to be sent');
    expect(sent.attempt_count).toBe(2);
    const requests = receiver.requests.filter((request) => request.headers['webhook-id'] === eventId);
    expect(requests).toHaveLength(2);
    // Woken by the resume signal, not by its next check half a minute later.
    expect(requests[1]!.receivedAtMs - enabledAt).toBeLessThan(10_000);
  });

  it('cancels the running deliveries of a deleted account, and no later attempt goes out', async () => {
    const receiver = (await freshReceiver()).replyWith(503);
    const accountId = await newAccount(app);
    await destinationIn(app, accountId, `${receiver.url}/deleted`, { retry_policy: { initial_interval_ms: 1000, max_interval_ms: 1000 } });
    const eventId = await ingestContact(app, accountId);
    await eventually(async () => ((await app.request('GET', `/v1/accounts/${accountId}/deliveries/${eventId}`)).body.attempt_count >= 1 ? true : undefined));
    await eventually(async () => ((await workflowIdsOfAccount(app, accountId, 'Running')).length === 1 ? true : undefined), 15_000, 'visibility of the running delivery');

    expect((await app.request('DELETE', `/v1/accounts/${accountId}`)).status).toBe(204);
    const closedAs = await eventually(async () => {
      const { status } = await app.temporal.workflow.getHandle(`delivery-${eventId}`).describe();
      return status.name === 'RUNNING' ? undefined : status.name;
    }, 15_000, 'the delivery workflow to close');
    expect(closedAs).toBe('CANCELLED');
    const requestsAtDelete = receiver.requests.filter((request) => request.headers['webhook-id'] === eventId).length;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(receiver.requests.filter((request) => request.headers['webhook-id'] === eventId)).toHaveLength(requestsAtDelete);
    expect(await app.dataSource.query(`SELECT 1 FROM deliveries WHERE account_id = $1`, [accountId])).toHaveLength(0);
  });
});
