import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { NON_PUBLIC_ADDRESS_CODE } from '../contract/delivery-error-types.js';
import { classifySendError, classifyStatusCode, recordedOutcome, type AttemptOutcome } from './attempt-outcome.js';
import { nextRetryDelayMs } from './delivery.activities.js';
import { AttemptTimeoutError } from './webhook-http-client.js';

describe('classifyStatusCode', () => {
  it.each([200, 201, 202, 204, 299])('treats %i as sent', (status) => {
    expect(classifyStatusCode(status).kind).toBe('sent');
  });

  it.each([408, 429, 500, 502, 503, 504, 599])('retries %i', (status) => {
    expect(classifyStatusCode(status)).toMatchObject({ kind: 'retryable', errorType: 'RetryableHttpStatus' });
  });

  it.each([400, 401, 403, 404, 409, 410, 422])('gives up on %i', (status) => {
    expect(classifyStatusCode(status)).toMatchObject({ kind: 'permanent', errorType: 'PermanentHttpStatus' });
  });

  it.each([301, 302, 303, 307, 308])('gives up on redirect %i without following it', (status) => {
    const outcome = classifyStatusCode(status);
    expect(outcome).toMatchObject({ kind: 'permanent', errorType: 'PermanentHttpStatus' });
    expect(outcome.kind !== 'sent' && outcome.reason).toContain('redirects are not followed');
  });
});

describe('classifySendError', () => {
  it('retries a connection refused', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifySendError(error)).toMatchObject({ kind: 'retryable', errorType: 'NetworkError', reason: 'network error: ECONNREFUSED' });
  });

  it('retries an attempt that ran out of time', () => {
    expect(classifySendError(new AttemptTimeoutError('no answer'))).toMatchObject({ kind: 'retryable', errorType: 'AttemptTimeout' });
  });

  it("retries undici's headers timeout", () => {
    const error = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(classifySendError(error)).toMatchObject({ kind: 'retryable', errorType: 'AttemptTimeout' });
  });

  it.each([
    ['a control character', 'bad\u0001value'],
    ['DEL', 'bad\u007fvalue'],
    ['a code point above U+00FF', 'bad\u0100value'],
  ])('gives up on the error undici throws for a header value with %s, naming only the header', async (_what, value) => {
    // undici refuses the header before it connects, so the unreachable port is never dialled.
    const error = await request('http://127.0.0.1:9/', { method: 'POST', headers: { 'x-shared-secret': value }, body: '{}' }).then(
      () => expect.unreachable('undici sent an invalid header value'),
      (refused: unknown) => refused,
    );
    expect(classifySendError(error)).toEqual({
      kind: 'permanent',
      errorType: 'InvalidRequest',
      reason: 'request refused before sending (UND_ERR_INVALID_ARG): invalid x-shared-secret header',
    });
  });

  it.each(['ERR_INVALID_URL', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_CHAR', 'UND_ERR_NOT_SUPPORTED'])('gives up on a request the client refuses with %s', (code) => {
    const error = Object.assign(new TypeError('refused'), { code });
    expect(classifySendError(error)).toMatchObject({ kind: 'permanent', errorType: 'InvalidRequest' });
  });

  it('keeps a refusal message that may quote the value or URL out of the reason', () => {
    const error = Object.assign(new TypeError('The "value" argument must be of type string. Received s3cr3t'), { code: 'ERR_INVALID_ARG_TYPE' });
    const outcome = classifySendError(error);
    expect(outcome).toEqual({ kind: 'permanent', errorType: 'InvalidRequest', reason: 'request refused before sending (ERR_INVALID_ARG_TYPE)' });
  });

  it('gives up on an invalid request even when undici wraps it', () => {
    const invalid = Object.assign(new Error('invalid x-a header'), { code: 'UND_ERR_INVALID_ARG' });
    const wrapped = Object.assign(new Error('fetch failed', { cause: invalid }), { code: 'UND_ERR_SOCKET' });
    expect(classifySendError(wrapped)).toMatchObject({ kind: 'permanent', errorType: 'InvalidRequest' });
  });

  it('gives up when the destination resolves to a non-public address, even when wrapped', () => {
    const refusal = Object.assign(new Error('destination resolves to a non-public address (loopback address 127.0.0.1)'), { code: NON_PUBLIC_ADDRESS_CODE });
    const wrapped = Object.assign(new Error('fetch failed', { cause: refusal }), { code: 'UND_ERR_SOCKET' });
    expect(classifySendError(wrapped)).toMatchObject({ kind: 'permanent', errorType: 'DestinationNotPublic', reason: refusal.message });
  });
});

describe('recordedOutcome', () => {
  const failures: Array<[string, AttemptOutcome, number | null]> = [
    ['a 503', classifyStatusCode(503), 503],
    ['a 400', classifyStatusCode(400), 400],
    ['a redirect', classifyStatusCode(302), 302],
    ['a timeout', classifySendError(new AttemptTimeoutError('attempt timed out')), null],
    ['a refused connection', classifySendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), null],
    ['a non-public address', classifySendError(Object.assign(new Error('destination resolves to a non-public address'), { code: NON_PUBLIC_ADDRESS_CODE })), null],
    ['a 2xx without the success body', { kind: 'retryable', errorType: 'UnexpectedResponseBody', reason: 'receiver answered HTTP 200 without the expected success_body' }, 200],
  ];

  it.each(failures)('reads %s back from its record as the activity writes it', (_name, outcome, statusCode) => {
    expect(outcome.kind).not.toBe('sent');
    const error = outcome.kind === 'sent' ? null : `${outcome.errorType}: ${outcome.reason}`;
    expect(recordedOutcome({ statusCode, error })).toEqual(outcome);
  });

  it('reads an accepted attempt as sent', () => {
    expect(recordedOutcome({ statusCode: 204, error: null })).toEqual({ kind: 'sent' });
  });

  it.each([
    ['an attempt aborted by a cancellation', { statusCode: null, error: 'Cancelled: the attempt was aborted by a cancellation' }],
    ['an error of no known type', { statusCode: 500, error: 'SomethingNew: receiver answered HTTP 500' }],
    ['an error without a type', { statusCode: null, error: 'receiver answered' }],
    ['no status and no error', { statusCode: null, error: null }],
  ])('reads %s as no outcome', (_name, record) => {
    expect(recordedOutcome(record)).toBeUndefined();
  });
});

describe('nextRetryDelayMs', () => {
  const backoff = { initialIntervalMs: 10_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 0 };
  const FLOOR_MS = 10_000;

  it('follows the exponential backoff when the receiver gave no Retry-After', () => {
    expect(nextRetryDelayMs(backoff, 1, undefined, 1e9, FLOOR_MS)).toEqual({ delayMs: 10_000, overridesBackoff: false });
    expect(nextRetryDelayMs(backoff, 3, undefined, 1e9, FLOOR_MS)).toEqual({ delayMs: 40_000, overridesBackoff: false });
  });

  it('caps the exponential backoff at the maximum interval', () => {
    expect(nextRetryDelayMs(backoff, 10, undefined, 1e9, FLOOR_MS).delayMs).toBe(60_000);
  });

  it("honours the receiver's Retry-After, even above the maximum interval", () => {
    expect(nextRetryDelayMs(backoff, 1, 120_000, 1e9, FLOOR_MS)).toEqual({ delayMs: 120_000, overridesBackoff: true });
  });

  it('never waits past the end of the retry window when the floor leaves room', () => {
    expect(nextRetryDelayMs(backoff, 1, 120_000, 30_000, FLOOR_MS)).toEqual({ delayMs: 30_000, overridesBackoff: true });
  });

  it.each([0, 5_000])('waits the floor, not the %i ms a Retry-After asks for', (retryAfterMs) => {
    expect(nextRetryDelayMs(backoff, 1, retryAfterMs, 1e9, FLOOR_MS)).toEqual({ delayMs: FLOOR_MS, overridesBackoff: true });
  });

  it('keeps the floor when the retry window ends sooner, so Temporal ends the delivery instead of retrying at once', () => {
    expect(nextRetryDelayMs(backoff, 1, 0, 50, FLOOR_MS)).toEqual({ delayMs: FLOOR_MS, overridesBackoff: true });
  });

  it('raises a backoff below the floor to the floor and tells Temporal so', () => {
    const legacy = { ...backoff, initialIntervalMs: 100 };
    expect(nextRetryDelayMs(legacy, 1, undefined, 1e9, 1_000)).toEqual({ delayMs: 1_000, overridesBackoff: true });
    expect(nextRetryDelayMs(legacy, 5, undefined, 1e9, 1_000)).toEqual({ delayMs: 1_600, overridesBackoff: false });
  });
});
