import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { AttemptRecord, DeliveryStore, DeliveryTarget } from '../src/deliveries/delivery.store.js';
import { createDeliveryActivities } from './delivery.activities.js';
import type { WebhookHttpClient, WebhookResponse } from './webhook-http-client.js';

const HEADER_SECRET = 'hdr-s3cr3t';
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function target(): DeliveryTarget {
  return {
    eventId: 'evt-1',
    body: '{"event":"Contact"}',
    status: 'pending',
    destination: {
      url: 'https://hooks.example.com/xt',
      method: 'POST',
      headers: { 'X-Shared-Secret': HEADER_SECRET },
      timeoutMs: 5_000,
      signingSecret: SIGNING_SECRET,
      previousSigningSecret: null,
      enabled: true,
      deleted: false,
    },
  };
}

/**
 * The activity against a fake store and a fake HTTP client: the database refusing one particular
 * record, or an exact receiver answer, cannot be produced on demand with the real ones.
 */
function harness({
  response,
  recordAttempt,
  minRetryIntervalMs = 100,
  startToCloseTimeoutMs = 15_000,
}: {
  response: WebhookResponse;
  recordAttempt: (record: AttemptRecord) => Promise<void>;
  minRetryIntervalMs?: number;
  startToCloseTimeoutMs?: number;
}) {
  const store = { loadTarget: vi.fn(async () => target()), recordAttempt: vi.fn(recordAttempt), finish: vi.fn() };
  const http = { send: vi.fn(async () => response) };
  const activities = createDeliveryActivities({
    store: store as unknown as DeliveryStore,
    http: http as unknown as WebhookHttpClient,
    defaultTimeoutMs: 5_000,
    minRetryIntervalMs,
    metrics: { attempt: () => undefined, finished: () => undefined },
    logger: pino({ level: 'silent' }),
  });
  const environment = new MockActivityEnvironment(
    { scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: 3_600_000, startToCloseTimeoutMs },
    // The SDK logs every failed attempt; here failing is what most tests expect.
    { logger: new DefaultLogger('ERROR') },
  );
  const backoff = { initialIntervalMs: 200, backoffCoefficient: 2, maxIntervalMs: 500, maxAttempts: 0 };
  return {
    store,
    http,
    send: (initialIntervalMs = backoff.initialIntervalMs) =>
      environment.run(activities.sendWebhook, { eventId: 'evt-1', backoff: { ...backoff, initialIntervalMs } }),
  };
}

const ok = (body: string): WebhookResponse => ({ statusCode: 200, retryAfter: undefined, bodyStart: Buffer.from(body) });
const refusesExcerpts = async (record: AttemptRecord) => {
  if (record.responseBody !== null) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0xf0 0x28'), { code: '22021' });
};

describe('sendWebhook', () => {
  it('records an accepted attempt without its excerpt when the database refuses the excerpt, instead of failing', async () => {
    const { store, send } = harness({ response: ok('accepted'), recordAttempt: refusesExcerpts });

    await expect(send()).resolves.toBeUndefined();
    expect(store.recordAttempt).toHaveBeenCalledTimes(2);
    expect(store.recordAttempt.mock.calls[1]![0]).toMatchObject({ status: 'sent', statusCode: 200, responseBody: null });
  });

  it('fails the attempt when the database refuses the record without an excerpt too', async () => {
    const refused = Object.assign(new Error('insert or update on table "delivery_attempts" violates foreign key constraint'), { code: '23503' });
    const { store, send } = harness({ response: ok('accepted'), recordAttempt: async () => Promise.reject(refused) });

    await expect(send()).rejects.toThrow('violates foreign key constraint');
    expect(store.recordAttempt).toHaveBeenCalledTimes(2);
  });

  it('does not drop the excerpt for a database outage, which it leaves to the outage retries', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // Leaves no time for an outage retry, so the outage surfaces at once.
    const { store, send } = harness({ response: ok('accepted'), recordAttempt: async () => Promise.reject(outage), startToCloseTimeoutMs: 1_100 });

    await expect(send()).rejects.toThrow('ECONNREFUSED');
    expect(store.recordAttempt).toHaveBeenCalledTimes(1);
  });

  it('masks the header values and, should a receiver know them, the signing secrets in the stored excerpt', async () => {
    const body = `echo ${HEADER_SECRET} ${SIGNING_SECRET} ${SIGNING_SECRET.slice('whsec_'.length)}`;
    const { store, send } = harness({ response: ok(body), recordAttempt: async () => undefined });

    await send();
    expect(store.recordAttempt.mock.calls[0]![0].responseBody).toBe('echo ******** ******** ********');
  });

  it.each([
    ['the configured minimum', 1_000, 200, 1_000],
    ["the destination's initial interval", 100, 1_500, 1_500],
  ])('tells Temporal to wait the floor, here %s, after Retry-After: 0', async (_floor, minRetryIntervalMs, initialIntervalMs, floorMs) => {
    const { store, send } = harness({ response: { statusCode: 503, retryAfter: '0', bodyStart: Buffer.alloc(0) }, recordAttempt: async () => undefined, minRetryIntervalMs });
    const before = Date.now();

    const failure = await send(initialIntervalMs).then(
      () => expect.unreachable('a 503 must fail the attempt'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RetryableHttpStatus', nonRetryable: false, nextRetryDelay: floorMs });
    const nextAttemptAt = store.recordAttempt.mock.calls[0]![0].nextAttemptAt!.getTime();
    expect(nextAttemptAt).toBeGreaterThanOrEqual(before + floorMs);
  });
});
