import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { AttemptRecord, AttemptStore, DeliveryTarget, RecordedAttempt } from '../contract/attempt-store.js';
import type { SendWebhookInput } from '../contract/delivery-activities.js';
import type { ReleaseRequest, ReleaseResult } from '../contract/traffic-gate.js';
import type { WebhookConnector, WebhookResponse } from '../contract/webhook-connector.js';
import { createDeliveryActivities, type LegacySendWebhookInput } from './delivery.activities.js';

const HEADER_SECRET = 'hdr-s3cr3t';
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function target(recordedAttempt: RecordedAttempt | null = null): DeliveryTarget {
  return {
    recordedAttempt,
    eventId: 'evt-1',
    accountId: 'acme',
    accountEnabled: true,
    accountTraffic: { ratePerSecond: null, maxInFlight: null, autoDisableAfterMs: null },
    body: '{"event":"Contact"}',
    sourceEventId: 'evt-42',
    status: 'pending',
    test: false,
    destination: {
      id: '00000000-0000-4000-8000-000000000001',
      format: 'json',
      url: 'https://hooks.example.com/xt',
      urlTemplate: null,
      templateSecrets: {},
      successBody: null,
      method: 'POST',
      headers: { 'X-Shared-Secret': HEADER_SECRET },
      signingSecret: SIGNING_SECRET,
      previousSigningSecret: null,
      enabled: true,
      deleted: false,
      paused: false,
      ratePerSecond: null,
      maxInFlight: null,
    },
  };
}

const FINISHED = { accountId: 'acme', destinationId: '00000000-0000-4000-8000-000000000001', targetEvent: 'Contact' };

/** What the store's real implementation takes for an outage; the fake plays the same verdict. */
const isOutage = (error: unknown) => (error as { code?: unknown } | null)?.code === 'ECONNREFUSED';

const RETRY = { initialIntervalMs: 200, backoffCoefficient: 2, maxIntervalMs: 500, maxAttempts: 0, maxAgeMs: 3_600_000 };

/**
 * The activity against a fake store and a fake HTTP client: the database refusing one particular
 * record, or an exact receiver answer, cannot be produced on demand with the real ones.
 */
function harness({
  response,
  recordAttempt = async () => true,
  finish = async () => FINISHED,
  minRetryIntervalMs = 100,
  startToCloseTimeoutMs = 15_000,
  recordedAttempt = null,
}: {
  response: WebhookResponse;
  /** The attempt's record as an earlier execution of it left it. */
  recordedAttempt?: RecordedAttempt | null;
  recordAttempt?: (record: AttemptRecord) => Promise<boolean>;
  finish?: () => Promise<typeof FINISHED | undefined>;
  minRetryIntervalMs?: number;
  startToCloseTimeoutMs?: number;
}) {
  const store = {
    loadTarget: vi.fn(async (_eventId: string, _key: { workflowRunId: string; attempt: number }) => target(recordedAttempt)),
    recordAttempt: vi.fn(recordAttempt),
    finish: vi.fn(finish),
    isUnavailableError: isOutage,
  } satisfies AttemptStore;
  const http = { send: vi.fn(async () => response) } satisfies WebhookConnector;
  const metrics = { attempt: vi.fn(), finished: vi.fn() };
  // The gate admits everything: its decisions have their own tests (src/traffic) against the real database.
  const gate = {
    admit: vi.fn(async () => ({ admitted: true as const, probe: false, delayMs: 0 })),
    release: vi.fn(async (_request: ReleaseRequest): Promise<ReleaseResult> => ({ opened: undefined, recovered: undefined, disabled: undefined, wake: [] })),
  };
  const notifier = { notify: vi.fn(async () => undefined) };
  const activities = createDeliveryActivities({
    store,
    http,
    minRetryIntervalMs,
    metrics,
    logger: pino({ level: 'silent' }),
    gate,
    waker: { wake: async () => undefined },
    notifier,
    traffic: { maxInFlight: 20, ratePerSecond: null, breakerFailureThreshold: 10, breakerCooldownMs: 30_000, autoDisableAfterMs: null },
  });
  const environment = new MockActivityEnvironment(
    { scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: 3_600_000, startToCloseTimeoutMs },
    // The SDK logs every failed attempt; here failing is what most tests expect.
    { logger: new DefaultLogger('ERROR') },
  );
  return {
    store,
    http,
    metrics,
    gate,
    notifier,
    send: (retry: Partial<SendWebhookInput['retry']> = {}, attemptTimeoutMs = 5_000) =>
      environment.run(activities.sendWebhook, { eventId: 'evt-1', attemptTimeoutMs, retry: { ...RETRY, ...retry } }),
    sendLegacy: (input: LegacySendWebhookInput) => environment.run(activities.sendWebhook, input),
    finishDelivery: () => environment.run(activities.finishDelivery, { eventId: 'evt-1', status: 'failed' as const, reason: 'receiver answered HTTP 400' }),
  };
}

const ok = (body: string): WebhookResponse => ({ statusCode: 200, retryAfter: undefined, bodyStart: Buffer.from(body) });
const unavailable = (statusCode = 503): WebhookResponse => ({ statusCode, retryAfter: undefined, bodyStart: Buffer.alloc(0) });
const refusesExcerpts = async (record: AttemptRecord) => {
  if (record.responseBody !== null) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0xf0 0x28'), { code: '22021' });
  return true;
};
const failureOf = (attempt: Promise<unknown>) =>
  attempt.then(
    () => expect.unreachable('the attempt must fail'),
    (error: unknown) => error,
  );

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
    const { store, send } = harness({ response: ok(body) });

    await send();
    expect(store.recordAttempt.mock.calls[0]![0].responseBody).toBe('echo ******** ******** ********');
  });

  it.each([
    ['the configured minimum', 1_000, 200, 1_000],
    ["the destination's initial interval", 100, 1_500, 1_500],
  ])('tells Temporal to wait the floor, here %s, after Retry-After: 0', async (_floor, minRetryIntervalMs, initialIntervalMs, floorMs) => {
    const { store, send } = harness({ response: { statusCode: 503, retryAfter: '0', bodyStart: Buffer.alloc(0) }, minRetryIntervalMs });

    const failure = await failureOf(send({ initialIntervalMs }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RetryableHttpStatus', nonRetryable: false, nextRetryDelay: floorMs });
    expect(store.recordAttempt.mock.calls[0]![0].status).toBe('retrying');
  });

  it("holds a retry that would fall inside the breaker's cool-down until its end, counting the attempt, and releases once", async () => {
    const { gate, store, send } = harness({ response: unavailable() });
    const openUntilMs = Date.now() + 30_000;
    gate.release.mockResolvedValueOnce({ opened: undefined, recovered: undefined, openUntilMs, disabled: undefined, wake: [] });

    const result = await send({ initialIntervalMs: 1_000 });
    expect(result).toMatchObject({ held: { reason: 'breaker_open', attemptsMade: 1, exact: true } });
    const { waitMs } = (result as { held: { waitMs: number } }).held;
    // The rest of the cool-down, spread by up to 2 s as held deliveries are.
    expect(waitMs).toBeGreaterThan(28_000);
    expect(waitMs).toBeLessThanOrEqual(32_100);
    expect(gate.release).toHaveBeenCalledTimes(1);
    expect(gate.release.mock.calls[0]![0]).toMatchObject({ outcome: { kind: 'retryable_failure' } });
    expect(store.recordAttempt.mock.calls[0]![0].status).toBe('retrying');
  });

  it('keeps its own backoff when that outlasts the cool-down, and fails the attempt for Temporal to retry', async () => {
    const { gate, send } = harness({ response: unavailable() });
    gate.release.mockResolvedValueOnce({ opened: undefined, recovered: undefined, openUntilMs: Date.now() + 2_000, disabled: undefined, wake: [] });

    const failure = await failureOf(send({ initialIntervalMs: 60_000 }));
    expect(failure).toMatchObject({ type: 'RetryableHttpStatus', nonRetryable: false });
    expect(gate.release).toHaveBeenCalledTimes(1);
  });

  it("sends with the attempt timeout of the run's plan", async () => {
    const { http, send } = harness({ response: ok('accepted') });

    await send({}, 1_234);
    expect(http.send).toHaveBeenCalledWith(expect.objectContaining({ timeoutMs: 1_234 }));
  });

  it('gives an attempt scheduled before the plan carried its timeout the timeout Temporal holds for it', async () => {
    // Older workflow code gave Temporal a start-to-close timeout of the dispatch-time timeout + 10 s.
    const { http, send, sendLegacy } = harness({ response: ok('accepted'), startToCloseTimeoutMs: 17_500 });

    await sendLegacy({ eventId: 'evt-1', backoff: { initialIntervalMs: 200, backoffCoefficient: 2, maxIntervalMs: 500, maxAttempts: 0 } });
    expect(http.send).toHaveBeenCalledWith(expect.objectContaining({ timeoutMs: 7_500 }));
    await send();
    expect(http.send).toHaveBeenLastCalledWith(expect.objectContaining({ timeoutMs: 5_000 }));
  });

  it('records a retryable attempt as retrying', async () => {
    const { store, send } = harness({ response: unavailable() });

    await failureOf(send());
    expect(store.recordAttempt.mock.calls[0]![0]).toMatchObject({ status: 'retrying', statusCode: 503 });
  });

  it('leaves the status of a permanent failure to the workflow, the one writer of failed', async () => {
    const { store, metrics, send } = harness({ response: unavailable(400) });

    const failure = await failureOf(send());
    expect(failure).toMatchObject({ type: 'PermanentHttpStatus', nonRetryable: true });
    expect(store.recordAttempt.mock.calls[0]![0]).toMatchObject({ status: null, statusCode: 400, error: 'PermanentHttpStatus: receiver answered HTTP 400' });
    expect(metrics.finished).not.toHaveBeenCalled();
  });

  it("leaves the status after the run's last attempt to the workflow", async () => {
    const { store, send } = harness({ response: unavailable() });

    await failureOf(send({ maxAttempts: 1 }));
    expect(store.recordAttempt.mock.calls[0]![0]).toMatchObject({ status: null });
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('counts a sent delivery as finished only when its record moved it to sent (took the record: %s)', async (took, counted) => {
    const { metrics, send } = harness({ response: ok('accepted'), recordAttempt: async () => took });

    await send();
    expect(metrics.finished).toHaveBeenCalledTimes(counted);
    if (counted > 0) expect(metrics.finished).toHaveBeenCalledWith('sent');
  });
});

describe('sendWebhook, for an attempt an earlier execution already made', () => {
  // MockActivityEnvironment's run; a local first attempt is attempt 1 of its run however often its workflow task is redone.
  const KEY = { workflowRunId: '00000000-0000-0000-0000-000000000000', attempt: 1 };
  const endedAtMs = Date.now() - 2_000;

  it('asks for the record of its own run and attempt number', async () => {
    const { store, send } = harness({ response: ok('accepted') });

    await send();
    expect(store.loadTarget).toHaveBeenCalledWith('evt-1', KEY);
  });

  it('fails a recorded 400 as it failed, without sending it again or asking the gate', async () => {
    const { http, gate, store, send } = harness({
      response: ok('never sent'),
      recordedAttempt: { statusCode: 400, error: 'PermanentHttpStatus: receiver answered HTTP 400', endedAtMs },
    });

    const failure = await failureOf(send());
    expect(failure).toMatchObject({ type: 'PermanentHttpStatus', nonRetryable: true, message: 'receiver answered HTTP 400' });
    expect((failure as ApplicationFailure).details).toEqual([{ statusCode: 400, retryDelayMs: undefined, endedAtMs }]);
    expect(http.send).not.toHaveBeenCalled();
    expect(gate.admit).not.toHaveBeenCalled();
    expect(gate.release).not.toHaveBeenCalled();
    expect(store.recordAttempt).not.toHaveBeenCalled();
  });

  it('fails a recorded 503 as retryable with the backoff counted from its end, without sending it again', async () => {
    const { http, gate, send } = harness({
      response: ok('never sent'),
      recordedAttempt: { statusCode: 503, error: 'RetryableHttpStatus: receiver answered HTTP 503', endedAtMs },
    });

    const failure = await failureOf(send({ initialIntervalMs: 1_500 }));
    expect(failure).toMatchObject({ type: 'RetryableHttpStatus', nonRetryable: false });
    expect((failure as ApplicationFailure).details).toEqual([{ statusCode: 503, retryDelayMs: 1_500, endedAtMs }]);
    expect(http.send).not.toHaveBeenCalled();
    expect(gate.admit).not.toHaveBeenCalled();
  });

  it('ends a recorded acceptance without sending it again', async () => {
    const { http, metrics, send } = harness({ response: ok('never sent'), recordedAttempt: { statusCode: 200, error: null, endedAtMs } });

    await expect(send()).resolves.toBeUndefined();
    expect(http.send).not.toHaveBeenCalled();
    expect(metrics.attempt).not.toHaveBeenCalled();
  });

  it('sends an attempt whose record says it was aborted by a cancellation', async () => {
    const { http, send } = harness({
      response: ok('accepted'),
      recordedAttempt: { statusCode: null, error: 'Cancelled: the attempt was aborted by a cancellation', endedAtMs },
    });

    await send();
    expect(http.send).toHaveBeenCalledTimes(1);
  });
});

describe('finishDelivery', () => {
  it('writes the final status and counts it as finished', async () => {
    const { store, metrics, notifier, finishDelivery } = harness({ response: ok('unused') });

    await finishDelivery();
    expect(store.finish).toHaveBeenCalledWith('evt-1', 'failed', 'receiver answered HTTP 400');
    expect(metrics.finished).toHaveBeenCalledExactlyOnceWith('failed');
    // The account hears of it once, with ids and the reason only.
    expect(notifier.notify).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({
        accountId: 'acme',
        type: 'delivery.exhausted',
        data: { event_id: 'evt-1', destination_id: FINISHED.destinationId, event: 'Contact', reason: 'receiver answered HTTP 400' },
      }),
    );
  });

  it('counts nothing when the delivery had already finished, as after a repeated finish', async () => {
    const { metrics, notifier, finishDelivery } = harness({ response: ok('unused'), finish: async () => undefined });

    await finishDelivery();
    expect(metrics.finished).not.toHaveBeenCalled();
    expect(notifier.notify).not.toHaveBeenCalled();
  });
});
