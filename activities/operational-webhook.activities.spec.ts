import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { OperationalWebhookStore, OperationalWebhookTarget } from '../contract/operational-webhook-store.js';
import type { WebhookConnector, WebhookResponse } from '../contract/webhook-connector.js';
import { createOperationalWebhookActivities } from './operational-webhook.activities.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const URL_WITH_TOKEN = 'https://ops.example.com/hooks/xt?token=q-s3cr3t';
const RETRY = { initialIntervalMs: 200, backoffCoefficient: 2, maxIntervalMs: 500, maxAttempts: 0, maxAgeMs: 3_600_000 };

function target(overrides: Partial<OperationalWebhookTarget> = {}): OperationalWebhookTarget {
  return {
    notificationId: 'n-1',
    accountId: 'acme',
    status: 'pending',
    body: '{"type":"destination.failing","timestamp":"2025-12-11T05:48:20.000Z","data":{}}',
    endpoint: { url: URL_WITH_TOKEN, signingSecrets: [SECRET] },
    ...overrides,
  };
}

const answer = (statusCode: number, retryAfter?: string): WebhookResponse => ({ statusCode, retryAfter, bodyStart: Buffer.from('') });

/** The activity against a fake store and HTTP client, with every log line it writes kept. */
function harness(loaded: OperationalWebhookTarget | undefined, response: WebhookResponse) {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const store = {
    loadTarget: vi.fn(async () => loaded),
    recordAttempt: vi.fn(async () => undefined),
    fail: vi.fn(async () => true),
    isUnavailableError: () => false,
  } satisfies OperationalWebhookStore;
  const http = { send: vi.fn(async () => response) } satisfies WebhookConnector;
  const activities = createOperationalWebhookActivities({ store, http, minRetryIntervalMs: 100, logger });
  const environment = new MockActivityEnvironment(
    { scheduledTimestampMs: Date.now(), scheduleToCloseTimeoutMs: 3_600_000, startToCloseTimeoutMs: 15_000 },
    { logger: new DefaultLogger('ERROR') },
  );
  return {
    store,
    http,
    lines,
    send: () => environment.run(activities.sendOperationalWebhook, { notificationId: 'n-1', attemptTimeoutMs: 5_000, retry: RETRY }),
  };
}

async function failureOf(run: () => Promise<unknown>): Promise<ApplicationFailure> {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('sendOperationalWebhook', () => {
  it('sends nothing again for a notification already sent', async () => {
    const { http, send } = harness(target({ status: 'sent' }), answer(200));
    await send();
    expect(http.send).not.toHaveBeenCalled();
  });

  it('fails without retry, sending nothing, once the account removed its URL', async () => {
    const { http, send } = harness(target({ endpoint: null }), answer(200));
    const failure = await failureOf(send);
    expect(failure).toMatchObject({ type: 'OperationalWebhookRemoved', nonRetryable: true });
    expect(http.send).not.toHaveBeenCalled();
  });

  it('records an accepted attempt as sent', async () => {
    const { store, send } = harness(target(), answer(204));
    await send();
    expect(store.recordAttempt).toHaveBeenCalledWith({ notificationId: 'n-1', attempt: 1, statusCode: 204, error: null, sent: true });
  });

  it('asks Temporal to retry after the Retry-After of a 503', async () => {
    const { store, send } = harness(target(), answer(503, '7'));
    const failure = await failureOf(send);
    expect(failure).toMatchObject({ type: 'RetryableHttpStatus', nonRetryable: false });
    expect(failure.nextRetryDelay).toBe(7_000);
    expect(store.recordAttempt).toHaveBeenCalledWith(expect.objectContaining({ statusCode: 503, sent: false, error: 'RetryableHttpStatus: receiver answered HTTP 503' }));
  });

  it('stops at a 410 without retry', async () => {
    const { send } = harness(target(), answer(410));
    expect(await failureOf(send)).toMatchObject({ type: 'PermanentHttpStatus', nonRetryable: true });
  });

  it('logs neither the secret, the signature nor the URL beyond its host', async () => {
    const { http, lines, send } = harness(target(), answer(503));
    await failureOf(send);
    const signature = (http.send.mock.calls[0] as unknown as [{ headers: Record<string, string> }])[0].headers['webhook-signature']!;
    const logged = lines.join('\n');
    expect(logged).toContain('ops.example.com');
    for (const secret of [SECRET, SECRET.slice('whsec_'.length), signature, signature.slice(3), 'q-s3cr3t', '/hooks/xt']) expect(logged).not.toContain(secret);
  });
});
