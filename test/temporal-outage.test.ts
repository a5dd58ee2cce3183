import { msToTs } from '@temporalio/common/lib/time.js';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeliveryDispatcher } from '../src/deliveries/delivery-dispatcher.js';
import { DeliveryRepository } from '../src/deliveries/delivery.repository.js';
import { OutboxDispatcher } from '../src/deliveries/outbox-dispatcher.js';
import { OutboxListener } from '../src/deliveries/outbox-listener.js';
import { OutboxSignal } from '../src/deliveries/outbox-signal.js';
import { uniqueId } from './support/fixtures.js';
import { useTestApp, type ApiResponse, type TestApp } from './support/test-app.js';
import { captureLogs } from './support/captured-logs.js';

/** Every log line the process writes during this file. */
const logLines = captureLogs();

/** A destination mapping `contact`, written straight to the database: the API is not what is under test here. */
async function insertDestination(app: TestApp, signingSecret = `whsec_${randomBytes(24).toString('base64')}`): Promise<string> {
  const [destination]: Array<{ id: string }> = await app.dataSource.query(
    `INSERT INTO destinations (account_id, name, url, method, event_map, signing_secret)
     VALUES ($1, 'outage', 'http://127.0.0.1:9/hook', 'POST', '{"contact": "Lead"}', $2) RETURNING id`,
    [app.accountId, signingSecret],
  );
  return destination!.id;
}

/**
 * A delivery as a running or a failed workflow leaves it, written straight to the database: with
 * Temporal down, the API cannot make one.
 */
async function insertDelivery(app: TestApp, destinationId: string, status: 'retrying' | 'failed'): Promise<string> {
  const [event]: Array<{ id: string }> = await app.dataSource.query(
    `INSERT INTO events (account_id, idempotency_key, fingerprint, canonical, uid, occurred_at_ms) VALUES ($1, $2, 'fingerprint', 'contact', 'u-outage', 0) RETURNING id`,
    [app.accountId, uniqueId('evt')],
  );
  const eventId = randomBytes(16).toString('hex');
  await app.dataSource.query(
    `INSERT INTO deliveries (account_id, event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id, dispatched_at, completed_at)
     VALUES ($1, $2, $3, $4, 'contact', 'Lead', '{}', $5, $6, now(), CASE WHEN $5 = 'failed' THEN now() END)`,
    [app.accountId, eventId, event!.id, destinationId, status, `delivery-${eventId}`],
  );
  return eventId;
}

// Each request waits out the SDK's own retries (up to ~20 s) before failing, so they run at once.
describe.concurrent('while Temporal is unreachable, routes that need it answer 503 with Retry-After, and ingest still accepts', () => {
  const app = useTestApp({ temporal: 'unreachable' });
  let destinationId: string;

  beforeAll(async () => {
    destinationId = await insertDestination(app);
  });

  const expectTemporalUnavailable = (response: ApiResponse) => {
    expect(response.status, JSON.stringify(response.body)).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.body.statusCode).toBe(503);
    expect(response.body.message).toMatch(/Temporal/);
    // The gRPC error (which names the address) stays in the log.
    expect(JSON.stringify(response.body)).not.toContain(app.config.temporal.address!.split(':')[1]);
  };

  it('answers a cancel 503, and the delivery keeps its status', async () => {
    const eventId = await insertDelivery(app, destinationId, 'retrying');

    expectTemporalUnavailable(await app.request('POST', app.path(`/deliveries/${eventId}/cancel`)));
    expect((await app.request('GET', app.path(`/deliveries/${eventId}`))).body.status).toBe('retrying');
  });

  it('answers a retry 503, and the delivery stays failed so that it can be retried later', async () => {
    const eventId = await insertDelivery(app, destinationId, 'failed');

    expectTemporalUnavailable(await app.request('POST', app.path(`/deliveries/${eventId}/retry`)));
    expect((await app.request('GET', app.path(`/deliveries/${eventId}`))).body.status).toBe('failed');
  });

  it('answers an ingest 202 at once, with the delivery waiting in the outbox for Temporal to return', async () => {
    const id = uniqueId('evt');
    const startedAt = Date.now();
    const response = await app.request('POST', app.path('/events'), { id, canonical: 'contact', uid: 'u-outage' });

    expect(response.status, JSON.stringify(response.body)).toBe(202);
    // Nothing waits for the SDK's retries against the unreachable server.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(response.body.deliveries).toEqual([expect.objectContaining({ status: 'pending' })]);
    const stored = await app.dataSource.query(
      `SELECT d.status, d.dispatched_at FROM deliveries d JOIN events e ON e.id = d.source_event_id WHERE e.idempotency_key = $1`,
      [id],
    );
    expect(stored).toEqual([{ status: 'pending', dispatched_at: null }]);
  });
});

describe('a workflow start Temporal refuses as invalid', () => {
  // A namespace of the real test server where no worker ever registered the delivery search
  // attributes (the app runs without one): Temporal refuses every start with INVALID_ARGUMENT, as
  // it would a misspelt search attribute key.
  const namespace = `no-search-attributes-${randomBytes(4).toString('hex')}`;
  const app = useTestApp({ env: { TEMPORAL_NAMESPACE: namespace }, worker: false });

  beforeAll(async () => {
    await app.temporal.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  });

  it('keeps the refused delivery in the outbox, and logs the refusal as an error with its gRPC status', async () => {
    const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
    await insertDestination(app, signingSecret);
    const logged = logLines.length;

    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-refused' });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const eventId: string = response.body.deliveries[0].event_id;
    // A dispatcher of this app's own (it runs no worker), driven by hand.
    const dispatcher = new OutboxDispatcher(app.config, app.nest.get(DeliveryRepository), app.nest.get(DeliveryDispatcher), new OutboxSignal(), {} as OutboxListener);
    const pass = await dispatcher.dispatchOnce();

    expect(pass).toEqual({ claimed: 1, started: 0, failed: 1 });
    // Given back at once, not left to its lease: the next pass tries it again.
    expect(await app.dataSource.query(`SELECT dispatched_at, dispatch_claimed_until FROM deliveries WHERE event_id = $1`, [eventId])).toEqual([
      { dispatched_at: null, dispatch_claimed_until: null },
    ]);
    const lines = logLines.slice(logged);
    const bug = lines.map((line) => JSON.parse(line) as { level: number; context?: string; msg: string }).find((line) => line.context === 'OutboxDispatcher');
    expect(bug, 'the refusal reaches the log').toBeDefined();
    expect(bug!.level, 'logged at error level').toBe(50);
    expect(bug!.msg).toContain('3 INVALID_ARGUMENT');
    expect(bug!.msg).toContain('search attribute');
    for (const line of lines) {
      expect(line).not.toContain(signingSecret);
      expect(line).not.toContain(app.apiKey);
    }
  });
});
