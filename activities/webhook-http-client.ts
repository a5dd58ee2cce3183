import { Agent, request, type Dispatcher } from 'undici';
import type { Cidr } from '../src/url-policy/cidr.js';
import { createGuardedConnector } from '../src/url-policy/guarded-lookup.js';
import type { HostResolver } from '../src/url-policy/destination-url-policy.js';

/** Kept per attempt for operators; receivers sometimes answer with whole HTML error pages. */
export const MAX_RESPONSE_BODY_BYTES = 16 * 1024;
const USER_AGENT = 'XTRACKER-Webhooks/1';

export interface WebhookRequest {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt when the delivery is cancelled. */
  signal?: AbortSignal;
}

export interface WebhookResponse {
  statusCode: number;
  retryAfter: string | undefined;
  /** The start of the response body, at most MAX_RESPONSE_BODY_BYTES. */
  bodyExcerpt: string;
}

/** Thrown when the attempt's own deadline passed, as opposed to a cancellation. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export interface WebhookDispatcherOptions {
  allowedCidrs: Cidr[];
  resolver?: HostResolver;
}

/**
 * One keep-alive connection pool per origin for the whole worker, with every connection
 * checked against the SSRF rules at connect time (the address actually dialled is the one checked).
 */
export function createWebhookDispatcher({ allowedCidrs, resolver }: WebhookDispatcherOptions): Dispatcher {
  return new Agent({
    connect: createGuardedConnector(allowedCidrs, resolver),
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
  });
}

export class WebhookHttpClient {
  constructor(private readonly dispatcher: Dispatcher) {}

  async send(webhook: WebhookRequest): Promise<WebhookResponse> {
    const deadline = AbortSignal.timeout(webhook.timeoutMs);
    const signal = webhook.signal ? AbortSignal.any([deadline, webhook.signal]) : deadline;
    try {
      // undici's request() never follows redirects unless a redirect interceptor is added; none is.
      const response = await request(webhook.url, {
        method: webhook.method,
        dispatcher: this.dispatcher,
        signal,
        headers: { ...webhook.headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
        body: webhook.body,
        headersTimeout: webhook.timeoutMs,
        bodyTimeout: webhook.timeoutMs,
      });
      const bodyExcerpt = await readExcerpt(response.body, MAX_RESPONSE_BODY_BYTES);
      const retryAfter = response.headers['retry-after'];
      return {
        statusCode: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        bodyExcerpt,
      };
    } catch (error) {
      if (deadline.aborted && !webhook.signal?.aborted) throw new AttemptTimeoutError(`no answer within ${webhook.timeoutMs} ms`);
      throw error;
    }
  }
}

async function readExcerpt(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer.subarray(0, maxBytes - size));
    size += buffer.length;
    if (size >= maxBytes) {
      // Stop reading an oversized answer; the connection is dropped rather than drained.
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
