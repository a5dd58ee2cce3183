import { afterAll, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, inFreshAccount, ingestContacts, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

/**
 * Bulk recovery against the real service: deliveries that really failed (a receiver answering 400),
 * recovered by the real recovery workflow on the real Temporal server, counted at a real receiver.
 */

const receivers: Receiver[] = [];
async function freshReceiver(status: number): Promise<Receiver> {
  const receiver = (await Receiver.start()).replyWith(status);
  receivers.push(receiver);
  return receiver;
}
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});



async function countByStatus(app: TestApp): Promise<Record<string, number>> {
  const rows: Array<{ status: string; count: number }> = await app.dataSource.query(
    `SELECT status, count(*)::int AS count FROM deliveries WHERE account_id = $1 GROUP BY status`,
    [app.accountId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/** Waits until every delivery of the account has the status. */
async function allReach(app: TestApp, status: string, total: number, timeoutMs = 180_000): Promise<void> {
  await eventually(async () => ((await countByStatus(app))[status] === total ? true : undefined), timeoutMs, `${total} deliveries to be ${status}`);
}

/** Destinations answering from one receiver, each mapping `contact`. */
async function destinationsAt(app: TestApp, receiver: Receiver, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    ids.push((await createDestination(app, { url: `${receiver.url}/d${index}`, event_map: { contact: 'Lead' } })).id);
  }
  return ids;
}

async function recoveryFinishes(app: TestApp, id: string, timeoutMs = 180_000): Promise<any> {
  return eventually(
    async () => {
      const response = await app.request('GET', app.path(`/recoveries/${id}`));
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.state === 'running' ? undefined : response.body;
    },
    timeoutMs,
    `recovery ${id} to finish`,
  );
}

/** Requests that reached the receiver per event_id, of those received at or after `sinceMs`. */
function arrivals(receiver: Receiver, sinceMs = 0): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.requests) {
    if (request.receivedAtMs < sinceMs) continue;
    const eventId = String(request.headers['webhook-id']);
    counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  return counts;
}

/** The runs of a workflow id, oldest first: more than one when it continued as new. */
async function runsOf(app: TestApp, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of app.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution.runId);
  return runs;
}

const SINCE = '2000-01-01T00:00:00Z';

describe('bulk recovery', () => {
  const app = useTestApp();

  it('retries every one of 2,500 failed deliveries exactly once, across pages and runs, with figures that add up', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(400);
    await destinationsAt(tenant, receiver, 5);
    const eventIds = await ingestContacts(tenant, 500, 'u-recovery');
    expect(eventIds).toHaveLength(2500);
    await allReach(tenant, 'failed', 2500);
    receiver.replyWith(200);
    const recoveryBeganAtMs = Date.now();

    const started = await tenant.request('POST', tenant.path('/recover'), { since: SINCE });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const recovery = await recoveryFinishes(tenant, started.body.id);
    expect(recovery).toMatchObject({ state: 'completed', matched: 2500, retried: 2500, skipped: 0, destination_id: null, until: null });
    expect(recovery.statuses).toEqual(['failed', 'skipped', 'cancelled']);
    expect(recovery.finished_at).not.toBeNull();
    await allReach(tenant, 'sent', 2500);

    // Once answered 400 (a first attempt is not made twice, even when its workflow task is redone), once 200.
    const counts = arrivals(receiver);
    const recovered = arrivals(receiver, recoveryBeganAtMs);
    expect(counts.size).toBe(2500);
    const failing = [...counts].map(([eventId, count]) => [eventId, count - (recovered.get(eventId) ?? 0)]);
    expect(failing.filter(([, count]) => count !== 1), 'deliveries the failing receiver got other than once').toEqual([]);
    expect([...recovered].filter(([, count]) => count !== 1), 'deliveries the recovery sent other than once').toEqual([]);
    expect([...counts].filter(([, count]) => count !== 2)).toEqual([]);
    // 5 pages of 500, two per run: it continued as new.
    expect((await runsOf(tenant, `recover-${started.body.id}`)).length).toBeGreaterThanOrEqual(3);
  }, 420_000);

  it('stops a cancelled recovery between batches and leaves the deliveries it had not reached failed', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(400);
    await destinationsAt(tenant, receiver, 5);
    await ingestContacts(tenant, 500, 'u-recovery');
    await allReach(tenant, 'failed', 2500);
    receiver.replyWith(200);
    const before = receiver.requests.length;

    const started = await tenant.request('POST', tenant.path('/recover'), { since: SINCE });
    expect(started.status).toBe(202);
    await eventually(async () => ((await countByStatus(tenant)).failed! < 2500 ? true : undefined), 60_000, 'the recovery to begin');
    const cancelled = await tenant.request('POST', tenant.path(`/recoveries/${started.body.id}/cancel`));
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(202);
    expect(cancelled.body.state).toBe('cancelled');
    await eventually(async () => ((await tenant.temporal.workflow.getHandle(`recover-${started.body.id}`).describe()).status.name !== 'RUNNING' ? true : undefined), 60_000, 'the workflow to close');

    const final = (await tenant.request('GET', tenant.path(`/recoveries/${started.body.id}`))).body;
    expect(final.state).toBe('cancelled');
    expect(final.retried).toBeGreaterThan(0);
    expect(final.retried).toBeLessThan(2500);
    expect(final.matched).toBe(final.retried + final.skipped);
    await eventually(async () => ((await countByStatus(tenant)).sent === final.retried ? true : undefined), 120_000, 'the retried deliveries to be sent');
    expect(await countByStatus(tenant)).toEqual({ sent: final.retried, failed: 2500 - final.retried });
    expect(receiver.requests.length - before).toBe(final.retried);

    const again = await tenant.request('POST', tenant.path(`/recoveries/${started.body.id}/cancel`));
    expect(again.status).toBe(409);
  }, 420_000);

  it('sends nothing twice when the same recovery is requested twice at once', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(400);
    const [destinationId] = await destinationsAt(tenant, receiver, 1);
    await ingestContacts(tenant, 700, 'u-recovery');
    await allReach(tenant, 'failed', 700);
    receiver.replyWith(200);

    const request = { since: SINCE, statuses: ['failed'] };
    const [first, second] = await Promise.all([
      tenant.request('POST', tenant.path(`/destinations/${destinationId}/recover`), request),
      tenant.request('POST', tenant.path(`/destinations/${destinationId}/recover`), request),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.body.id).not.toBe(second.body.id);
    const [a, b] = await Promise.all([recoveryFinishes(tenant, first.body.id), recoveryFinishes(tenant, second.body.id)]);
    expect(a.retried + b.retried).toBe(700);
    expect(a.matched).toBe(a.retried + a.skipped);
    expect(b.matched).toBe(b.retried + b.skipped);
    expect(a.destination_id).toBe(destinationId);
    await allReach(tenant, 'sent', 700);
    // A third, after both: nothing left to send.
    const third = await tenant.request('POST', tenant.path(`/destinations/${destinationId}/recover`), request);
    expect(await recoveryFinishes(tenant, third.body.id)).toMatchObject({ state: 'completed', matched: 0, retried: 0 });

    const counts = arrivals(receiver);
    expect(counts.size).toBe(700);
    expect([...counts].filter(([, count]) => count !== 2)).toEqual([]);
  }, 300_000);

  it('only recovers the window, the statuses and the destination asked for', async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(400);
    const [target, other] = await destinationsAt(tenant, receiver, 2);
    const eventIds = await ingestContacts(tenant, 4, 'u-recovery', 2);
    await allReach(tenant, 'failed', 8);
    // Two of the target's deliveries predate the window.
    const targetIds: string[] = (
      await tenant.dataSource.query(`SELECT event_id FROM deliveries WHERE account_id = $1 AND destination_id = $2 ORDER BY event_id`, [tenant.accountId, target])
    ).map((row: { event_id: string }) => row.event_id);
    await tenant.dataSource.query(`UPDATE deliveries SET created_at = '2001-01-01T00:00:00Z' WHERE event_id = ANY($1)`, [targetIds.slice(0, 2)]);
    receiver.replyWith(200);

    const started = await tenant.request('POST', tenant.path(`/destinations/${target}/recover`), { since: '2020-01-01T00:00:00Z', statuses: ['failed'] });
    expect(await recoveryFinishes(tenant, started.body.id)).toMatchObject({ state: 'completed', matched: 2, retried: 2 });
    await Promise.all(targetIds.slice(2).map((eventId) => deliveryReaches(tenant, eventId, ['sent'])));
    const statuses: Array<{ destination_id: string; status: string; count: number }> = await tenant.dataSource.query(
      `SELECT destination_id, status, count(*)::int AS count FROM deliveries WHERE account_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [tenant.accountId],
    );
    expect(statuses).toEqual(
      expect.arrayContaining([
        { destination_id: target, status: 'failed', count: 2 },
        { destination_id: target, status: 'sent', count: 2 },
        { destination_id: other, status: 'failed', count: 4 },
      ]),
    );
    expect(eventIds).toHaveLength(8);

    // `until` is exclusive and bounds the window from above.
    const early = await tenant.request('POST', tenant.path(`/destinations/${target}/recover`), { since: SINCE, until: '2001-01-01T00:00:00.000001Z' });
    expect(await recoveryFinishes(tenant, early.body.id)).toMatchObject({ matched: 2, retried: 2, until: '2001-01-01T00:00:00.000Z' });
  }, 120_000);

  it("counts a deleted destination's deliveries as skipped and retries the rest", async () => {
    const tenant = await inFreshAccount(app);
    const receiver = await freshReceiver(400);
    const [kept, deleted] = await destinationsAt(tenant, receiver, 2);
    await ingestContacts(tenant, 3, 'u-recovery', 1);
    await allReach(tenant, 'failed', 6);
    expect((await tenant.request('DELETE', tenant.path(`/destinations/${deleted}`))).status).toBe(204);
    receiver.replyWith(200);

    const started = await tenant.request('POST', tenant.path('/recover'), { since: SINCE });
    const recovery = await recoveryFinishes(tenant, started.body.id);
    expect(recovery).toMatchObject({ state: 'completed', matched: 6, retried: 3, skipped: 3, skipped_destination_deleted: 3 });
    // A completed recovery has started its retries; they land on their own time.
    await allReach(tenant, 'sent', 3);
    const left: Array<{ destination_id: string; status: string }> = await tenant.dataSource.query(
      `SELECT DISTINCT destination_id, status FROM deliveries WHERE account_id = $1 AND status <> 'sent'`,
      [tenant.accountId],
    );
    expect(left).toEqual([{ destination_id: deleted, status: 'failed' }]);
    expect(kept).toBeDefined();
    // Recovering the deleted destination by id is a 404, like anything else about it.
    const refused = await tenant.request('POST', tenant.path(`/destinations/${deleted}/recover`), { since: SINCE });
    expect(refused.status).toBe(404);
  }, 120_000);

  it('refuses a request without since, with until before since or with another status, naming the field', async () => {
    const tenant = await inFreshAccount(app);
    const cases: Array<[unknown, string]> = [
      [{}, 'since'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: SINCE, until: '1999-12-31T00:00:00Z' }, 'until'],
      [{ since: SINCE, until: SINCE }, 'until'],
      [{ since: SINCE, statuses: ['sent'] }, 'statuses'],
      [{ since: SINCE, statuses: [] }, 'statuses'],
      [{ since: SINCE, statuses: 'failed' }, 'statuses'],
    ];
    for (const [body, field] of cases) {
      const response = await tenant.request('POST', tenant.path('/recover'), body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(response.body.message), JSON.stringify(body)).toContain(field);
    }
    expect((await tenant.request('GET', tenant.path('/recoveries/00000000-0000-4000-8000-000000000000'))).status).toBe(404);
    expect((await tenant.request('POST', tenant.path('/destinations/00000000-0000-4000-8000-000000000000/recover'), { since: SINCE })).status).toBe(404);
  });

  it('documents recovery, test events and forced resend in the OpenAPI document', async () => {
    const document = (await app.request('GET', '/openapi.json')).body;
    for (const path of [
      '/v1/accounts/{account_id}/destinations/{destination_id}/recover',
      '/v1/accounts/{account_id}/recover',
      '/v1/accounts/{account_id}/recoveries/{id}',
      '/v1/accounts/{account_id}/recoveries/{id}/cancel',
      '/v1/accounts/{account_id}/destinations/{destination_id}/test',
    ]) {
      expect(Object.keys(document.paths), path).toContain(path);
    }
    expect(document.components.schemas.RecoverRequestDto.required).toEqual(['since']);
    expect(document.components.schemas.RetryDeliveryDto.properties.force.type).toBe('boolean');
    expect(document.components.schemas.SendTestEventDto.required).toEqual(['canonical']);
    expect(Object.keys(document.components.schemas.RecoveryDto.properties)).toEqual(expect.arrayContaining(['state', 'matched', 'retried', 'skipped']));
    expect(document.components.schemas.TestDeliveryDto.properties.test).toBeDefined();
  });

  it("does not show one account's recovery to another", async () => {
    const owner = await inFreshAccount(app);
    const stranger = await inFreshAccount(app);
    const started = await owner.request('POST', owner.path('/recover'), { since: SINCE });
    expect(started.status).toBe(202);
    expect((await stranger.request('GET', stranger.path(`/recoveries/${started.body.id}`))).status).toBe(404);
    expect((await stranger.request('POST', stranger.path(`/recoveries/${started.body.id}/cancel`))).status).toBe(404);
    expect((await recoveryFinishes(owner, started.body.id)).state).toBe('completed');
  });
});

describe('forced resend', () => {
  const app = useTestApp();

  it('sends a sent delivery again with force, same event_id and body, and refuses it without', async () => {
    const receiver = await freshReceiver(200);
    await createDestination(app, { url: `${receiver.url}/force`, event_map: { contact: 'Lead' } });
    const [eventId] = await ingestContacts(app, 1, 'u-recovery', 1);
    await deliveryReaches(app, eventId!, ['sent']);

    const refused = await app.request('POST', app.path(`/deliveries/${eventId}/retry`));
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('force');
    const refusedToo = await app.request('POST', app.path(`/deliveries/${eventId}/retry`), { force: false });
    expect(refusedToo.status).toBe(409);

    const forced = await app.request('POST', app.path(`/deliveries/${eventId}/retry`), { force: true });
    expect(forced.status, JSON.stringify(forced.body)).toBe(202);
    expect(forced.body).toMatchObject({ event_id: eventId, status: 'pending' });
    await eventually(() => (receiver.bodiesFor(eventId!).length === 2 ? true : undefined), 30_000, 'the resend');
    const [first, second] = receiver.bodiesFor(eventId!);
    expect(second).toBe(first);
    const delivery = await deliveryReaches(app, eventId!, ['sent']);
    expect(delivery.attempt_count).toBe(2);

    expect((await app.request('POST', app.path(`/deliveries/${eventId}/retry`), { force: 'yes' })).status).toBe(400);
  });
});
