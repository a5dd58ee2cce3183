import { afterAll, describe, expect, inject, it } from 'vitest';
import { runXtw, type XtwIo } from '../src/cli/xtw-commands.js';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { useTestApp, type TestApp } from './support/test-app.js';

/** The operator CLI, run in-process against a running app over HTTP and the suite's Temporal server. */

const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function xtw(app: TestApp, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: XtwIo = {
    env: { XTW_API_URL: app.baseUrl, XTW_API_KEY: app.apiKey, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: app.config.temporal.namespace },
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    pollIntervalMs: 100,
  };
  return { code: await runXtw(argv, io), out, err };
}

/** Ingests a contact and returns its delivery to the destination (the account has several). */
async function ingest(app: TestApp, destinationId: string): Promise<string> {
  const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: uniqueId('uid') });
  expect(response.status).toBe(202);
  return response.body.deliveries.find((delivery: { destination_id: string }) => delivery.destination_id === destinationId).event_id;
}

describe('xtw', () => {
  const app = useTestApp();

  it('lists deliveries as a table, filtered by status', async () => {
    const receiver = (await Receiver.start()).replyWith(400);
    receivers.push(receiver);
    const destination = await createDestination(app, { url: `${receiver.url}/cli`, event_map: { contact: 'Lead' } });
    const failed = await ingest(app, destination.id);
    await deliveryReaches(app, failed, ['failed']);

    const listed = await xtw(app, 'deliveries', '--account', app.accountId, '--destination', destination.id, '--status', 'failed');
    expect(listed.err).toBe('');
    expect(listed.code).toBe(0);
    const [header, row] = listed.out.split('\n');
    expect(header).toMatch(/^EVENT_ID\s+STATUS\s+EVENT\s+DESTINATION\s+ATTEMPTS\s+CREATED/);
    expect(row).toMatch(new RegExp(`^${failed}\\s+failed\\s+Lead\\s+${destination.id}\\s+1\\s`));
    expect(listed.out).toContain('1 deliveries');

    const none = await xtw(app, 'deliveries', '--account', app.accountId, '--destination', destination.id, '--status', 'sent');
    expect(none.out).not.toContain(failed);
  });

  it("shows one delivery's API data, attempts and Temporal history as tables", async () => {
    const receiver = (await Receiver.start()).replyWith(503, 200);
    receivers.push(receiver);
    const destination = await createDestination(app, { url: `${receiver.url}/history`, event_map: { contact: 'Lead' } });
    const eventId = await ingest(app, destination.id);
    await deliveryReaches(app, eventId, ['sent']);

    const shown = await xtw(app, 'history', '--account', app.accountId, '--event-id', eventId);
    expect(shown.err).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`status\\s+sent`));
    expect(shown.out).toMatch(/attempts\n#\s+STARTED\s+MS\s+STATUS\s+ERROR\n1\s+\S+\s+\d+\s+503\s+RetryableHttpStatus/);
    expect(shown.out).toContain(`Temporal history of delivery-${eventId}`);
    expect(shown.out).toMatch(/\n1\s+WorkflowExecutionStarted\s+\d{4}-\d{2}-\d{2}T\S+\s+workflow deliveryWorkflow/);
    // The first attempt is a local activity (a marker), the wait for the retry a timer, the retry a regular activity.
    expect(shown.out).toMatch(/MarkerRecorded\s+\S+\s+local activity; failure: receiver answered HTTP 503/);
    expect(shown.out).toMatch(/TimerStarted\s+\S+\s+timer 0.2 s/);
    expect(shown.out).toMatch(/ActivityTaskScheduled\s+\S+\s+activity sendWebhook/);
    expect(shown.out).toMatch(/WorkflowExecutionCompleted/);
  });

  it('starts a recovery and follows it with a progress bar to the end, and refuses a second cancel', async () => {
    const receiver = (await Receiver.start()).replyWith(400);
    receivers.push(receiver);
    const destination = await createDestination(app, { url: `${receiver.url}/recover`, event_map: { contact: 'Lead' } });
    const eventIds = [await ingest(app, destination.id), await ingest(app, destination.id)];
    await Promise.all(eventIds.map((eventId) => deliveryReaches(app, eventId, ['failed'])));
    receiver.replyWith(200);

    const followed = await xtw(app, 'recover', '--account', app.accountId, '--destination', destination.id, '--since', '2000-01-01T00:00:00Z');
    expect(followed.err).toBe('');
    expect(followed.code).toBe(0);
    expect(followed.out).toMatch(/recovery [0-9a-f-]{36} started/);
    expect(followed.out).toMatch(/\[#{30}\] 100% 2\/2 matched, 2 retried, 0 skipped/);
    expect(followed.out).toContain('completed: matched 2, retried 2, skipped 0');
    await Promise.all(eventIds.map((eventId) => deliveryReaches(app, eventId, ['sent'])));
    expect(receiver.requests).toHaveLength(4);

    const id = /recovery ([0-9a-f-]{36}) started/.exec(followed.out)![1]!;
    const cancel = await xtw(app, 'recovery-cancel', '--account', app.accountId, '--id', id);
    expect(cancel.code).toBe(1);
    expect(cancel.err).toContain('409');
  });

  it('explains what is missing', async () => {
    expect((await xtw(app, 'recover', '--account', app.accountId)).err).toContain('--since is required');
    expect((await xtw(app, 'deliveries')).err).toContain('--account is required');
    expect((await xtw(app, 'nonsense')).code).toBe(2);
    expect((await xtw(app, 'deliveries', '--bogus')).code).toBe(2);
  });
});
