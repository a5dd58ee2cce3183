import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../contract/delivery-status.js';
import { DeliveryRepository } from '../src/deliveries/delivery.repository.js';
import { readNextAttemptAt } from '../src/temporal/next-attempt-time.js';
import { createDestination, deliveryReaches, getDelivery, uniqueId } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

/** How far the API's next_attempt_at may be from the time Temporal scheduled: the attempt's bookkeeping, not a second backoff. */
const SCHEDULE_TOLERANCE_MS = 250;
/**
 * How late the receiver may see the attempt after its scheduled time (task poll, HTTP). What the
 * test rules out is a second wait on top of the scheduled one, so the bound sits below the 3 s
 * backoff of the test's destination rather than at a latency: .ci/run saw 1.79 s on a loaded 2-core machine.
 */
const ARRIVAL_TOLERANCE_MS = 2_500;

describe('one delivery plan per run', () => {
  let app: TestApp;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await app?.close();
  });

  async function destinationFor(receiver: Receiver, fields: Record<string, unknown>): Promise<string> {
    receivers.push(receiver);
    const destination = await createDestination(app, { url: `${receiver.url}/hook`, event_map: { contact: 'Contact' }, ...fields });
    return destination.id;
  }

  async function ingest(destinationId: string): Promise<string> {
    const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const delivery = response.body.deliveries.find((candidate: { destination_id: string }) => candidate.destination_id === destinationId);
    return delivery.event_id;
  }

  /** Later events must not match a destination a test is done with. */
  const disable = (destinationId: string) => app.request('PATCH', app.path(`/destinations/${destinationId}`), { enabled: false });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe('attempt timeout', () => {
    it("keeps the run's attempt timeout when the destination's timeout_ms is raised while the delivery waits in backoff", async () => {
      // The second attempt hangs: with the run's 1 s timeout it ends as a timeout after 1 s. Were
      // the raised 20 s re-read, Temporal (which holds 1 s + 10 s for the attempt) would cut it off
      // at 11 s, unrecorded, and start the next attempt while the first was still in flight.
      const receiver = (await Receiver.start()).replyWith(503, { hang: true }, 200);
      const destinationId = await destinationFor(receiver, { timeout_ms: 1_000, retry_policy: { initial_interval_ms: 3_000, max_interval_ms: 3_000 } });
      const eventId = await ingest(destinationId);
      await deliveryReaches(app, eventId, ['retrying']);
      expect(receiver.requests).toHaveLength(1);

      const raised = await app.request('PATCH', app.path(`/destinations/${destinationId}`), { timeout_ms: 20_000 });
      expect(raised.status, JSON.stringify(raised.body)).toBe(200);
      expect(receiver.requests, 'the PATCH landed while the delivery waited in backoff').toHaveLength(1);

      const delivery = await deliveryReaches(app, eventId, ['sent'], 45_000);
      // Anything still in flight would reach the receiver or the database by now.
      await sleep(1_500);
      expect(receiver.requests).toHaveLength(3);
      const [, second, third] = receiver.requests;
      expect(third!.receivedAtMs - second!.receivedAtMs, 'the hanging attempt ended at the run timeout, then one backoff').toBeLessThan(8_000);
      const final = await getDelivery(app, eventId);
      expect(final.attempt_count).toBe(3);
      expect(final.attempts.map((attempt: { status_code: number | null }) => attempt.status_code)).toEqual([503, null, 200]);
      expect(final.attempts[1].error).toBe('AttemptTimeout: receiver did not answer within the attempt timeout');
      expect(final.attempts[1].duration_ms).toBeLessThan(5_000);
      expect(delivery.status).toBe('sent');
      expect(final.status).toBe('sent');
      await disable(destinationId);
    }, 60_000);
  });

  describe('next_attempt_at', () => {
    it('is the time Temporal starts the next attempt, and the receiver gets that attempt then', async () => {
      const receiver = (await Receiver.start()).replyWith(503, 200);
      const destinationId = await destinationFor(receiver, { retry_policy: { initial_interval_ms: 3_000, max_interval_ms: 3_000 } });
      const eventId = await ingest(destinationId);
      // `retrying` is recorded while the attempt is still finishing (it reads as none until Temporal has scheduled the next).
      const retrying = await eventually(async () => {
        const delivery = await getDelivery(app, eventId);
        return delivery.status === 'retrying' && delivery.next_attempt_at !== null ? delivery : undefined;
      });
      const scheduled = await eventually(() => readNextAttemptAt(app.temporal.workflow.getHandle(`delivery-${eventId}`)).then((at) => at ?? undefined));

      const shownMs = Date.parse(retrying.next_attempt_at);
      expect(Math.abs(shownMs - scheduled.getTime())).toBeLessThanOrEqual(SCHEDULE_TOLERANCE_MS);
      const firstEndedMs = Date.parse(retrying.attempts[0].started_at) + retrying.attempts[0].duration_ms;
      expect(shownMs - firstEndedMs).toBeGreaterThanOrEqual(3_000 - SCHEDULE_TOLERANCE_MS);
      expect(shownMs - firstEndedMs).toBeLessThanOrEqual(3_000 + SCHEDULE_TOLERANCE_MS);

      await deliveryReaches(app, eventId, ['sent']);
      const arrivalMs = receiver.requests[1]!.receivedAtMs;
      expect(arrivalMs).toBeGreaterThanOrEqual(scheduled.getTime() - SCHEDULE_TOLERANCE_MS);
      expect(arrivalMs - scheduled.getTime()).toBeLessThanOrEqual(ARRIVAL_TOLERANCE_MS);
      expect((await getDelivery(app, eventId)).next_attempt_at).toBeNull();
      await disable(destinationId);
    });

    it("follows the receiver's Retry-After, as Temporal schedules it", async () => {
      const receiver = (await Receiver.start()).replyWith({ status: 503, headers: { 'retry-after': '4' } }, 200);
      const destinationId = await destinationFor(receiver, { retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 } });
      const eventId = await ingest(destinationId);
      const retrying = await eventually(async () => {
        const delivery = await getDelivery(app, eventId);
        return delivery.status === 'retrying' && delivery.next_attempt_at !== null ? delivery : undefined;
      });
      const scheduled = await eventually(() => readNextAttemptAt(app.temporal.workflow.getHandle(`delivery-${eventId}`)).then((at) => at ?? undefined));

      const firstEndedMs = Date.parse(retrying.attempts[0].started_at) + retrying.attempts[0].duration_ms;
      expect(Math.abs(Date.parse(retrying.next_attempt_at) - scheduled.getTime())).toBeLessThanOrEqual(SCHEDULE_TOLERANCE_MS);
      expect(scheduled.getTime() - firstEndedMs).toBeGreaterThanOrEqual(4_000 - SCHEDULE_TOLERANCE_MS);
      expect(scheduled.getTime() - firstEndedMs).toBeLessThanOrEqual(4_000 + SCHEDULE_TOLERANCE_MS);
      await deliveryReaches(app, eventId, ['sent']);
      await disable(destinationId);
    });

    it('reads as none from Temporal while an attempt is in flight and once the run has closed', async () => {
      const receiver = (await Receiver.start()).replyWith({ hang: true }, 200);
      const destinationId = await destinationFor(receiver, { timeout_ms: 2_000, retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 } });
      const eventId = await ingest(destinationId);
      const handle = app.temporal.workflow.getHandle(`delivery-${eventId}`);
      await eventually(() => (receiver.requests.length === 1 ? true : undefined));

      expect(await readNextAttemptAt(handle)).toBeNull();
      await deliveryReaches(app, eventId, ['sent']);
      await handle.result();
      expect(await readNextAttemptAt(handle)).toBeNull();
      await disable(destinationId);
    });
  });

  describe('status transitions in the store', () => {
    let store: DeliveryRepository;
    let eventId: string;
    let destinationId: string;
    let nextAttempt = 100;

    beforeAll(async () => {
      store = app.nest.get(DeliveryRepository);
      const receiver = (await Receiver.start()).replyWith(200);
      destinationId = await destinationFor(receiver, {});
      eventId = await ingest(destinationId);
      // The delivery's own run is over before the tests move its row around.
      await deliveryReaches(app, eventId, ['sent']);
      await app.temporal.workflow.getHandle(`delivery-${eventId}`).result();
      await disable(destinationId);
    });

    /** The delivery row as the statements under test could change it. */
    async function row() {
      const [delivery] = await app.dataSource.query(
        `SELECT status, attempt_count, last_status_code, last_error, completed_at, updated_at FROM deliveries WHERE event_id = $1`,
        [eventId],
      );
      return delivery as Record<string, unknown>;
    }

    async function setStatus(status: DeliveryStatus): Promise<Record<string, unknown>> {
      await app.dataSource.query(
        `UPDATE deliveries SET status = $2, last_status_code = 418, last_error = 'before',
                completed_at = now() - interval '1 hour', updated_at = now() - interval '1 hour'
          WHERE event_id = $1`,
        [eventId, status],
      );
      return row();
    }

    const attemptCount = async () =>
      Number((await app.dataSource.query(`SELECT count(*) AS n FROM delivery_attempts WHERE event_id = $1`, [eventId]))[0].n);

    const attempt = (status: 'sent' | 'retrying') => ({
      eventId,
      workflowRunId: 'run-under-test',
      attempt: nextAttempt++,
      startedAt: new Date(),
      durationMs: 12,
      statusCode: status === 'sent' ? 200 : 503,
      error: status === 'sent' ? null : 'RetryableHttpStatus: receiver answered HTTP 503',
      responseBody: null,
      status,
    });

    const FINISHED: DeliveryStatus[] = ['sent', 'failed', 'cancelled'];

    it.each(FINISHED.flatMap((from) => (['retrying', 'sent'] as const).map((to) => [from, to] as const)))(
      'an attempt recorded on a %s delivery asking for %s keeps the attempt and changes nothing else',
      async (from, to) => {
        const before = await setStatus(from);
        const attemptsBefore = await attemptCount();

        expect(await store.recordAttempt(attempt(to))).toBe(false);
        expect(await attemptCount()).toBe(attemptsBefore + 1);
        expect(await row()).toEqual({ ...before, attempt_count: (before.attempt_count as number) + 1 });
      },
    );

    it.each(FINISHED.flatMap((from) => (['failed', 'cancelled'] as const).map((to) => [from, to] as const)))(
      'finishing a %s delivery as %s writes nothing',
      async (from, to) => {
        const before = await setStatus(from);

        expect(await store.finish(eventId, to, 'late finish')).toBeUndefined();
        expect(await row()).toEqual(before);
      },
    );

    // Controls: the same statements on an open delivery do write, so the refusals above are the SQL's doing.
    it('an attempt recorded on a retrying delivery moves it on', async () => {
      await setStatus('retrying');

      expect(await store.recordAttempt(attempt('sent'))).toBe(true);
      expect(await row()).toMatchObject({ status: 'sent', last_status_code: 200, last_error: null });
    });

    it("loads an attempt's own record with the target, and no other attempt's", async () => {
      await setStatus('retrying');
      const recorded = attempt('retrying');
      await store.recordAttempt(recorded);

      const again = await store.loadTarget(eventId, { workflowRunId: recorded.workflowRunId, attempt: recorded.attempt });
      expect(again?.recordedAttempt).toEqual({
        statusCode: 503,
        error: 'RetryableHttpStatus: receiver answered HTTP 503',
        endedAtMs: recorded.startedAt.getTime() + recorded.durationMs,
      });
      expect((await store.loadTarget(eventId, { workflowRunId: recorded.workflowRunId, attempt: recorded.attempt + 1 }))?.recordedAttempt).toBeNull();
      expect((await store.loadTarget(eventId, { workflowRunId: 'another-run', attempt: recorded.attempt }))?.recordedAttempt).toBeNull();
    });

    it('finishing a retrying delivery as failed records it', async () => {
      await setStatus('retrying');

      expect(await store.finish(eventId, 'failed', 'gave up')).toEqual({ accountId: app.accountId, destinationId: expect.any(String), targetEvent: expect.any(String) });
      expect(await row()).toMatchObject({ status: 'failed', last_error: 'before' });
    });
  });
});
