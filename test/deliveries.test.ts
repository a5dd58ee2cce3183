import { afterEach, describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, getDelivery, uniqueId, workflowStartsDuring } from './support/fixtures.js';
import { readNextAttemptAt } from '../src/temporal/next-attempt-time.js';
import { eventually, useTestApp } from './support/test-app.js';

describe('deliveries API: find, cancel, retry', () => {
  const app = useTestApp();
  const receivers: Receiver[] = [];

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  /** A receiver and a destination of its own that maps every canonical event. */
  async function destinationWith(replies: Parameters<Receiver['replyWith']>, extra: Record<string, unknown> = {}) {
    const receiver = (await Receiver.start()).replyWith(...replies);
    receivers.push(receiver);
    const destination = await createDestination(app, {
      url: `${receiver.url}/hook`,
      event_map: { contact: 'Contact', subscribed: 'Subscribe', registration: 'Reg', deposit: 'Purchase' },
      retry_policy: { initial_interval_ms: 200, max_interval_ms: 500 },
      ...extra,
    });
    return { receiver, destinationId: destination.id };
  }

  async function ingestFor(destinationId: string, canonical = 'contact'): Promise<string> {
    const body: Record<string, unknown> = { id: uniqueId('evt'), canonical, uid: uniqueId('uid') };
    if (canonical === 'deposit') body.data = { value: '1.00', currency: 'USD' };
    const response = await app.request('POST', app.path('/events'), body);
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const delivery = response.body.deliveries.find((d: { destination_id: string }) => d.destination_id === destinationId);
    return delivery.event_id;
  }

  async function disable(destinationId: string) {
    await app.request('PATCH', app.path(`/destinations/${destinationId}`), { enabled: false });
  }

  describe('listing', () => {
    it('filters by destination, status and canonical event', async () => {
      const { destinationId } = await destinationWith([200]);
      const contact = await ingestFor(destinationId, 'contact');
      const deposit = await ingestFor(destinationId, 'deposit');
      await deliveryReaches(app, contact, ['sent']);
      await deliveryReaches(app, deposit, ['sent']);
      await disable(destinationId);

      const all = await app.request('GET', app.path(`/deliveries?destination_id=${destinationId}`));
      expect(all.body.items.map((d: { event_id: string }) => d.event_id).sort()).toEqual([contact, deposit].sort());
      const deposits = await app.request('GET', app.path(`/deliveries?destination_id=${destinationId}&canonical=deposit&status=sent`));
      expect(deposits.body.items.map((d: { event_id: string }) => d.event_id)).toEqual([deposit]);
      const failed = await app.request('GET', app.path(`/deliveries?destination_id=${destinationId}&status=failed`));
      expect(failed.body.items).toEqual([]);
    });

    it('pages through every delivery exactly once, newest first, while new ones arrive', async () => {
      const { destinationId } = await destinationWith([200]);
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push(await ingestFor(destinationId));

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await app.request('GET', app.path(`/deliveries?destination_id=${destinationId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`));
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((d: { event_id: string }) => d.event_id));
        cursor = page.body.next_cursor;
        // A newer delivery arriving mid-way must not shift the pages still to come.
        if (seen.length === 2) await ingestFor(destinationId);
      } while (cursor);
      await disable(destinationId);

      expect(seen).toEqual([...created].reverse());
    });

    it.each([
      ['a malformed cursor', 'cursor=not-a-cursor', 'cursor is malformed'],
      ['an unknown status', 'status=lost', 'status must be one of'],
      ['a destination_id that is not a UUID', 'destination_id=42', 'destination_id must be a UUID'],
      ['a limit above the maximum', 'limit=1000', 'limit must not be greater than 200'],
      ['a limit that is not a number', 'limit=ten', 'limit must be a whole number'],
      ['a malformed created_after', 'created_after=yesterday', 'created_after must be an RFC 3339 date-time'],
    ])('answers 400 for %s', async (_, query, message) => {
      const response = await app.request('GET', app.path(`/deliveries?${query}`));
      expect(response.status).toBe(400);
      expect(response.body.message).toContain(message);
    });

    it.each([
      ['month 13', '2025-13-01 00:00:00.000001+00'],
      ['day 32', '2025-01-32 00:00:00+00'],
      ['31 April', '2025-04-31 00:00:00+00'],
      ['year 0000', '0000-01-01 00:00:00+00'],
      ['hour 25', '2025-01-01 25:00:00+00'],
      ['an offset of 99 hours', '2025-01-01 00:00:00+99'],
    ])('answers 400, not 500, for a tampered cursor whose timestamp has %s', async (_, createdAt) => {
      const cursor = Buffer.from(JSON.stringify([createdAt, '0'.repeat(32)])).toString('base64url');

      const response = await app.request('GET', app.path(`/deliveries?cursor=${cursor}`));

      expect(response.status).toBe(400);
      expect(response.body.message).toContain('cursor is malformed');
    });

    it.each([
      ['a bare year', '2024'],
      ['a week date', '2024-W01'],
      ['30 February', '2026-02-30T00:00:00Z'],
      ['hour 24', '2026-12-01T24:00:00Z'],
      ['an offset of 16 hours', '2026-12-01T00:00:00+16:00'],
    ])('answers 400, not 500, for created_after and created_before given as %s', async (_, value) => {
      for (const parameter of ['created_after', 'created_before']) {
        const response = await app.request('GET', app.path(`/deliveries?${parameter}=${encodeURIComponent(value)}`));
        expect(response.status, `${parameter}=${value}`).toBe(400);
        expect(response.body.message).toContain(`${parameter} must be an RFC 3339 date-time`);
      }
    });

    it('filters by an RFC 3339 time with an offset', async () => {
      const response = await app.request('GET', app.path(`/deliveries?created_after=${encodeURIComponent('2000-01-01T00:00:00.5+05:30')}`));
      expect(response.status).toBe(200);
      expect(Array.isArray(response.body.items)).toBe(true);
    });

    it('answers 404 for an unknown event_id and 400 for a malformed one', async () => {
      expect((await app.request('GET', app.path(`/deliveries/${'0'.repeat(32)}`))).status).toBe(404);
      expect((await app.request('GET', app.path('/deliveries/xyz'))).status).toBe(400);
    });
  });

  describe('cancel', () => {
    it('stops a delivery waiting in backoff: no further attempt, status cancelled, workflow Canceled', async () => {
      const { receiver, destinationId } = await destinationWith([503], { retry_policy: { initial_interval_ms: 3000, max_interval_ms: 3000 } });
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['retrying']);

      const cancel = await app.request('POST', app.path(`/deliveries/${eventId}/cancel`));
      expect(cancel.status).toBe(202);
      const delivery = await deliveryReaches(app, eventId, ['cancelled']);
      // The workflow records `cancelled` just before it closes.
      const closedAs = await eventually(async () => {
        const { status } = await app.temporal.workflow.getHandle(delivery.workflow_id).describe();
        return status.name === 'RUNNING' ? undefined : status.name;
      });
      expect(closedAs).toBe('CANCELLED');
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(receiver.bodiesFor(eventId)).toHaveLength(1);
      await disable(destinationId);
    });

    it('aborts an attempt that hangs, well before its timeout', async () => {
      const { receiver, destinationId } = await destinationWith([{ hang: true }], { timeout_ms: 30_000 });
      const eventId = await ingestFor(destinationId);
      await eventually(() => (receiver.requests.length === 1 ? true : undefined));

      const requestedAt = Date.now();
      expect((await app.request('POST', app.path(`/deliveries/${eventId}/cancel`))).status).toBe(202);
      const delivery = await deliveryReaches(app, eventId, ['cancelled'], 10_000);
      expect(Date.now() - requestedAt).toBeLessThan(10_000);
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0].error).toContain('Cancelled');
      expect(delivery.attempts[0].duration_ms).toBeLessThan(10_000);
      await disable(destinationId);
    });

    it('answers 409 naming the status for a delivery that already finished, 404 for an unknown one', async () => {
      const { destinationId } = await destinationWith([200]);
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['sent']);
      await disable(destinationId);

      const cancel = await app.request('POST', app.path(`/deliveries/${eventId}/cancel`));
      expect(cancel.status).toBe(409);
      expect(cancel.body.message).toContain('already sent');
      expect((await app.request('POST', app.path(`/deliveries/${'f'.repeat(32)}/cancel`))).status).toBe(404);
    });
  });

  describe('a deleted destination', () => {
    it('fails its delivery waiting in backoff as "destination is deleted", with no further request', async () => {
      // Long enough for the DELETE to land before the second attempt is due, even on a busy machine.
      const { receiver, destinationId } = await destinationWith([503], { retry_policy: { initial_interval_ms: 3000, max_interval_ms: 3000 } });
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['retrying']);

      expect((await app.request('DELETE', app.path(`/destinations/${destinationId}`))).status).toBe(204);
      await deliveryReaches(app, eventId, ['failed']);

      // last_error keeps the last attempt's error; the workflow's failure says why it stopped.
      const outcome = await app.temporal.workflow.getHandle(`delivery-${eventId}`).result().then(
        () => expect.fail('expected the delivery workflow to fail'),
        (error: unknown) => error,
      );
      expect(outcome).toMatchObject({ cause: { message: 'destination is deleted' } });
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe('retry', () => {
    it('sends a failed delivery again with the same event_id and body', async () => {
      const { receiver, destinationId } = await destinationWith([400, 200]);
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['failed']);

      const retry = await app.request('POST', app.path(`/deliveries/${eventId}/retry`));
      expect(retry.status).toBe(202);
      const delivery = await deliveryReaches(app, eventId, ['sent']);
      expect(delivery.attempt_count).toBe(2);
      const bodies = receiver.bodiesFor(eventId);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      await disable(destinationId);
    });

    it('refuses to retry a sent delivery with 409 naming its status', async () => {
      const { destinationId } = await destinationWith([200]);
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['sent']);
      await disable(destinationId);

      const retry = await app.request('POST', app.path(`/deliveries/${eventId}/retry`));
      expect(retry.status).toBe(409);
      expect(retry.body.message).toContain('is sent');
    });

    /** A delivery whose status reads `failed` while its run is still open (waiting a minute in backoff), as it is for a moment after its final status. */
    async function failedWithRunOpen(): Promise<{ receiver: Receiver; destinationId: string; eventId: string }> {
      const { receiver, destinationId } = await destinationWith([503, 200], { retry_policy: { initial_interval_ms: 60_000, max_interval_ms: 60_000 } });
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['retrying']);
      await app.dataSource.query(`UPDATE deliveries SET status = 'failed', completed_at = now() WHERE event_id = $1`, [eventId]);
      return { receiver, destinationId, eventId };
    }

    it('waits for a run that closes just after its delivery failed, and starts the retry', async () => {
      const { receiver, destinationId, eventId } = await failedWithRunOpen();
      const handle = app.temporal.workflow.getHandle(`delivery-${eventId}`);
      const { runId: closingRunId } = await handle.describe();

      const retrying = app.request('POST', app.path(`/deliveries/${eventId}/retry`));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await handle.terminate('closing, as a run does once it has recorded its final status');
      const retry = await retrying;
      expect(retry.status, JSON.stringify(retry.body)).toBe(202);
      await deliveryReaches(app, eventId, ['sent']);
      expect(receiver.bodiesFor(eventId)).toHaveLength(2);
      expect((await handle.describe()).runId).not.toBe(closingRunId);
      await disable(destinationId);
    });

    it('answers 409 when the previous run stays open, and leaves the delivery as it was', async () => {
      const { destinationId, eventId } = await failedWithRunOpen();

      const retry = await app.request('POST', app.path(`/deliveries/${eventId}/retry`));
      expect(retry.status).toBe(409);
      expect(retry.body.message).toContain('still has a run closing');
      expect((await getDelivery(app, eventId)).status).toBe('failed');
      await app.temporal.workflow.getHandle(`delivery-${eventId}`).terminate('test over');
      await disable(destinationId);
    });

    it('starts one run, not two, for concurrent retries', async () => {
      const { receiver, destinationId } = await destinationWith([400, 200]);
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['failed']);
      const workflowId = `delivery-${eventId}`;
      // The run closes just after it records `failed`; a retry meanwhile waits for it and asks Temporal twice.
      const { runId: failedRunId } = await eventually(async () => {
        const description = await app.temporal.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING' ? undefined : description;
      });

      // Temporal's conflict policy alone would refuse two of three starts; the claim must let only one request ask.
      const { result: answers, starts } = await workflowStartsDuring(app, () =>
        Promise.all([
          app.request('POST', app.path(`/deliveries/${eventId}/retry`)),
          app.request('POST', app.path(`/deliveries/${eventId}/retry`)),
          app.request('POST', app.path(`/deliveries/${eventId}/retry`)),
        ]),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409, 409]);
      for (const refused of answers.filter((answer) => answer.status === 409)) {
        expect(refused.body.message, 'refused by the claim, not by Temporal').toContain('only failed, cancelled or skipped deliveries can be retried');
      }
      const retryStarts = starts.filter((start) => start.workflowId === workflowId);
      expect(retryStarts, 'workflow starts asked of Temporal').toHaveLength(1);
      const retryRunId = retryStarts[0]!.runId;
      expect(retryRunId).toEqual(expect.any(String));
      // A refused request must not undo the claim the accepted one holds.
      expect(['pending', 'retrying', 'sent']).toContain((await getDelivery(app, eventId)).status);

      await deliveryReaches(app, eventId, ['sent']);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.bodiesFor(eventId)).toHaveLength(2);
      const runs: string[] = [];
      for await (const run of app.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run.runId);
      expect(runs.sort()).toEqual([failedRunId, retryRunId].sort());
      const attemptRuns = await app.dataSource.query(`SELECT workflow_run_id FROM delivery_attempts WHERE event_id = $1 ORDER BY started_at`, [eventId]);
      expect(attemptRuns.map((row: { workflow_run_id: string }) => row.workflow_run_id)).toEqual([failedRunId, retryRunId]);
      await disable(destinationId);
    });
  });

  describe('Temporal visibility', () => {
    it('finds exactly the deliveries of one destination with a DestinationId query', async () => {
      const { destinationId } = await destinationWith([200]);
      const mine = [await ingestFor(destinationId), await ingestFor(destinationId, 'deposit')];
      await Promise.all(mine.map((eventId) => deliveryReaches(app, eventId, ['sent'])));
      await disable(destinationId);

      const found = await eventually(async () => {
        const ids: string[] = [];
        for await (const run of app.temporal.workflow.list({ query: `DestinationId = "${destinationId}"` })) ids.push(run.workflowId);
        return ids.length === 2 ? ids : undefined;
      }, 15_000, 'visibility to list both workflows');
      expect(found.sort()).toEqual(mine.map((eventId) => `delivery-${eventId}`).sort());
      const sent = await eventually(async () => {
        const ids: string[] = [];
        // Sent is the one outcome without a DeliveryStatus: ExecutionStatus says it.
        for await (const run of app.temporal.workflow.list({ query: `DestinationId = "${destinationId}" AND ExecutionStatus = "Completed" AND DeliveryStatus IS NULL` })) ids.push(run.workflowId);
        return ids.length === 2 ? ids : undefined;
      }, 15_000, 'both workflows listed as sent');
      expect(sent).toHaveLength(2);
    });

    it("tells why a delivery is retrying in the pending activity's last failure", async () => {
      const { destinationId } = await destinationWith([503], { retry_policy: { initial_interval_ms: 5000, max_interval_ms: 5000 } });
      const eventId = await ingestFor(destinationId);
      await deliveryReaches(app, eventId, ['retrying']);
      // The API shows the time Temporal scheduled the next attempt for, not a guess of its own.
      const scheduled = await eventually(() => readNextAttemptAt(app.temporal.workflow.getHandle(`delivery-${eventId}`)).then((at) => at ?? undefined));
      const delivery = await getDelivery(app, eventId);
      expect(Math.abs(Date.parse(delivery.next_attempt_at) - scheduled.getTime())).toBeLessThanOrEqual(250);

      const pending = await eventually(async () => {
        const description = await app.temporal.workflow.getHandle(`delivery-${eventId}`).describe();
        const activity = description.raw.pendingActivities?.[0];
        return activity?.lastFailure ? activity : undefined;
      });
      expect(pending.lastFailure?.message).toBe('receiver answered HTTP 503');
      expect(pending.lastFailure?.applicationFailureInfo?.type).toBe('RetryableHttpStatus');
      await app.request('POST', app.path(`/deliveries/${eventId}/cancel`));
      await disable(destinationId);
    });
  });
});
