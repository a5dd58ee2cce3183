import { afterAll, describe, expect, it } from 'vitest';
import { retentionScheduleId } from '../contract/retention.js';
import { Receiver } from './support/receiver.js';
import { createAccount, createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp, type TestApp } from './support/test-app.js';

/** The retention purge, run by its real Temporal Schedule against the real database. */

const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function ingest(app: TestApp, accountId: string): Promise<string> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/events`, { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.deliveries[0].event_id;
}

/** Moves a delivery, its attempts and its event `days` into the past, as if stored then. */
async function age(app: TestApp, eventId: string, days: number): Promise<void> {
  const interval = `${days} days`;
  await app.dataSource.query(`UPDATE deliveries SET created_at = created_at - $2::interval WHERE event_id = $1`, [eventId, interval]);
  await app.dataSource.query(`UPDATE delivery_attempts SET started_at = started_at - $2::interval WHERE event_id = $1`, [eventId, interval]);
  await app.dataSource.query(`UPDATE events SET created_at = created_at - $2::interval WHERE id = (SELECT source_event_id FROM deliveries WHERE event_id = $1)`, [eventId, interval]);
}

async function stored(app: TestApp, eventId: string): Promise<{ delivery: boolean; attempts: number; event: boolean }> {
  const [row]: Array<{ delivery: boolean; attempts: number; event: boolean }> = await app.dataSource.query(
    `SELECT EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1) AS delivery,
            (SELECT count(*)::int FROM delivery_attempts WHERE event_id = $1) AS attempts,
            EXISTS (SELECT 1 FROM events e JOIN deliveries d ON d.source_event_id = e.id WHERE d.event_id = $1) AS event`,
    [eventId],
  );
  return row!;
}

describe('retention', () => {
  const app = useTestApp();

  it('has the hourly purge Schedule once the worker has started', async () => {
    const description = await app.temporal.schedule.getHandle(retentionScheduleId(app.config.temporal.taskQueue)).describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', taskQueue: app.config.temporal.taskQueue });
    expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
  });

  it('purges finished deliveries, their attempts and events past retention, and keeps open ones, young ones and longer-kept accounts', async () => {
    const receiver = (await Receiver.start()).replyWith(200);
    const stalling = (await Receiver.start()).replyWith(503);
    receivers.push(receiver, stalling);
    const shortLived = await createAccount(app);
    const longLived = await createAccount(app, { retention_days: 60 });
    for (const accountId of [shortLived, longLived]) {
      await createDestination(app, { url: `${receiver.url}/${accountId}`, event_map: { contact: 'Lead' } }, { accountId });
    }
    const old = await ingest(app, shortLived);
    const young = await ingest(app, shortLived);
    const keptLonger = await ingest(app, longLived);
    await Promise.all([
      deliveryReaches(app, old, ['sent'], 30_000, { accountId: shortLived }),
      deliveryReaches(app, young, ['sent'], 30_000, { accountId: shortLived }),
      deliveryReaches(app, keptLonger, ['sent'], 30_000, { accountId: longLived }),
    ]);
    // An open delivery just as old: retrying against a receiver answering 503, next attempt in a minute.
    const openAccount = await createAccount(app);
    await createDestination(app, { url: `${stalling.url}/open`, event_map: { contact: 'Lead' }, retry_policy: { initial_interval_ms: 60_000 } }, { accountId: openAccount });
    const open = await ingest(app, openAccount);
    await deliveryReaches(app, open, ['retrying'], 30_000, { accountId: openAccount });
    for (const eventId of [old, keptLonger, open]) await age(app, eventId, 40);

    await app.temporal.schedule.getHandle(retentionScheduleId(app.config.temporal.taskQueue)).trigger();
    await eventually(async () => ((await stored(app, old)).delivery ? undefined : true), 30_000, 'the old delivery to be purged');

    const [oldEvent]: Array<{ count: number }> = await app.dataSource.query(
      `SELECT count(*)::int AS count FROM events WHERE account_id = $1 AND created_at < now() - interval '30 days'`,
      [shortLived],
    );
    expect(oldEvent!.count).toBe(0);
    expect(await app.dataSource.query(`SELECT 1 FROM delivery_attempts WHERE event_id = $1`, [old])).toEqual([]);
    expect(await stored(app, young)).toEqual({ delivery: true, attempts: 1, event: true });
    expect(await stored(app, keptLonger)).toEqual({ delivery: true, attempts: 1, event: true });
    expect(await stored(app, open)).toMatchObject({ delivery: true, event: true });
    const [openRow]: Array<{ status: string }> = await app.dataSource.query(`SELECT status FROM deliveries WHERE event_id = $1`, [open]);
    expect(openRow!.status).toBe('retrying');
  }, 120_000);

  it('shows the effective retention on the account, takes an override and puts the default back with null', async () => {
    const accountId = uniqueId('retention');
    const created = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'r', retention_days: 7 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.retention_days).toBe(7);
    expect((await app.request('GET', `/v1/accounts/${accountId}`)).body.retention_days).toBe(7);
    expect((await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'r' })).body.retention_days).toBe(7);
    expect((await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'r', retention_days: null })).body.retention_days).toBe(30);
    for (const bad of [0, 3651, 1.5, '7']) {
      const refused = await app.request('PUT', `/v1/accounts/${accountId}`, { name: 'r', retention_days: bad });
      expect(refused.status, String(bad)).toBe(400);
      expect(JSON.stringify(refused.body.message)).toContain('retention_days');
    }
  });
});
