import { request, type Dispatcher } from 'undici';
import type { WebhookConnector, WebhookRequest, WebhookResponse } from '../contract/webhook-connector.js';
import { RESPONSE_READ_LIMIT_BYTES } from './response-excerpt.js';

const USER_AGENT = 'XTRACKER-Webhooks/1';

/**
 * Reading the body after the status line gets at most this long (and never past the attempt
 * timeout): the status decided the attempt, the body is only an excerpt for operators.
 */
export const EXCERPT_READ_BUDGET_MS = 1_000;

/** Thrown when the attempt's own deadline passed, as opposed to a cancellation. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * The connector on undici: `dispatcher` is the worker's connection pool, which checks every
 * connection against the SSRF rules (src/temporal/webhook-dispatcher.ts builds it).
 */
export class WebhookHttpClient implements WebhookConnector {
  constructor(private readonly dispatcher: Dispatcher) {}

  async send(webhook: WebhookRequest): Promise<WebhookResponse> {
    const attemptEndsAtMs = Date.now() + webhook.timeoutMs;
    const deadline = AbortSignal.timeout(webhook.timeoutMs);
    const signal = webhook.signal ? AbortSignal.any([deadline, webhook.signal]) : deadline;
    try {
      // undici's request() never follows redirects unless a redirect interceptor is added; none is.
      const response = await request(webhook.url, {
        method: webhook.method,
        dispatcher: this.dispatcher,
        signal,
        headers: {
          ...webhook.headers,
          ...(webhook.body === undefined ? {} : { 'content-type': webhook.contentType ?? 'application/json' }),
          'user-agent': USER_AGENT,
        },
        body: webhook.body,
        headersTimeout: webhook.timeoutMs,
        bodyTimeout: webhook.timeoutMs,
      });
      const bodyStart = await readBodyStart(response.body, RESPONSE_READ_LIMIT_BYTES, Math.min(EXCERPT_READ_BUDGET_MS, attemptEndsAtMs - Date.now()));
      const retryAfter = response.headers['retry-after'];
      return {
        statusCode: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        bodyStart,
      };
    } catch (error) {
      if (deadline.aborted && !webhook.signal?.aborted) throw new AttemptTimeoutError(`no answer within ${webhook.timeoutMs} ms`);
      throw error;
    }
  }
}

/**
 * Reads the start of a body within its budget. Whatever ends the read early (the budget, the
 * attempt deadline, a cancellation, a reset connection) keeps what arrived and never fails the
 * attempt: a trickling or broken body after the status line must not turn a delivered webhook
 * into a retry, and so into a duplicate.
 */
async function readBodyStart(body: Dispatcher.ResponseData['body'], maxBytes: number, budgetMs: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Stop reading a slow or oversized answer; the connection is dropped rather than drained.
  const budget = setTimeout(() => body.destroy(), Math.max(0, budgetMs));
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      chunks.push(buffer.subarray(0, maxBytes - size));
      size += buffer.length;
      if (size >= maxBytes) {
        body.destroy();
        break;
      }
    }
  } catch {
    // Deliberately ignored, as said above: the excerpt is best-effort, the status is the outcome.
  } finally {
    clearTimeout(budget);
  }
  return Buffer.concat(chunks);
}
