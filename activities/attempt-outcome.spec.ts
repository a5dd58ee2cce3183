import { describe, expect, it } from 'vitest';
import { NON_PUBLIC_ADDRESS_CODE } from '../src/url-policy/guarded-lookup.js';
import { classifySendError, classifyStatusCode } from './attempt-outcome.js';
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

  it('gives up when the destination resolves to a non-public address, even when wrapped', () => {
    const refusal = Object.assign(new Error('destination resolves to a non-public address (loopback address 127.0.0.1)'), { code: NON_PUBLIC_ADDRESS_CODE });
    const wrapped = Object.assign(new Error('fetch failed', { cause: refusal }), { code: 'UND_ERR_SOCKET' });
    expect(classifySendError(wrapped)).toMatchObject({ kind: 'permanent', errorType: 'DestinationNotPublic', reason: refusal.message });
  });
});

describe('nextRetryDelayMs', () => {
  const backoff = { initialIntervalMs: 10_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 0 };

  it('follows the exponential backoff when the receiver gave no Retry-After', () => {
    expect(nextRetryDelayMs(backoff, 1, undefined, 1e9)).toEqual({ delayMs: 10_000, fromRetryAfter: false });
    expect(nextRetryDelayMs(backoff, 3, undefined, 1e9)).toEqual({ delayMs: 40_000, fromRetryAfter: false });
  });

  it('caps the exponential backoff at the maximum interval', () => {
    expect(nextRetryDelayMs(backoff, 10, undefined, 1e9).delayMs).toBe(60_000);
  });

  it("honours the receiver's Retry-After, even above the maximum interval", () => {
    expect(nextRetryDelayMs(backoff, 1, 120_000, 1e9)).toEqual({ delayMs: 120_000, fromRetryAfter: true });
  });

  it('never waits past the end of the retry window', () => {
    expect(nextRetryDelayMs(backoff, 1, 120_000, 5_000)).toEqual({ delayMs: 5_000, fromRetryAfter: true });
  });
});
