import type { RecordedAttempt } from '../contract/attempt-store.js';
import {
  NON_PUBLIC_ADDRESS_CODE,
  PERMANENT_ERROR_TYPES,
  RETRYABLE_ERROR_TYPES,
  type PermanentErrorType,
  type RetryableErrorType,
} from '../contract/delivery-error-types.js';

/**
 * What one HTTP attempt means for the delivery, as the webhook contract promises:
 * 2xx acknowledges; 408, 429, 5xx, timeouts and network errors ask for a retry;
 * anything else (3xx included: redirects are never followed) is permanent, and so is a request
 * the HTTP client refuses to send.
 */
export type AttemptOutcome =
  | { kind: 'sent' }
  | { kind: 'retryable'; errorType: RetryableErrorType; reason: string }
  | { kind: 'permanent'; errorType: PermanentErrorType; reason: string };

const RETRYABLE_STATUS_CODES = new Set([408, 429]);

export function classifyStatusCode(statusCode: number): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'sent' };
  if (RETRYABLE_STATUS_CODES.has(statusCode) || (statusCode >= 500 && statusCode < 600)) {
    return { kind: 'retryable', errorType: 'RetryableHttpStatus', reason: `receiver answered HTTP ${statusCode}` };
  }
  if (statusCode >= 300 && statusCode < 400) {
    return {
      kind: 'permanent',
      errorType: 'PermanentHttpStatus',
      reason: `receiver answered HTTP ${statusCode} (redirects are not followed)`,
    };
  }
  return { kind: 'permanent', errorType: 'PermanentHttpStatus', reason: `receiver answered HTTP ${statusCode}` };
}

/**
 * The outcome of an attempt as the activity recorded it (its error as `<type>: <reason>`), for an
 * execution that finds its attempt already made. Undefined for a record that is no outcome: an
 * attempt aborted by a cancellation, or a type this code does not know.
 */
export function recordedOutcome(record: Pick<RecordedAttempt, 'statusCode' | 'error'>): AttemptOutcome | undefined {
  if (record.error === null) return record.statusCode === null ? undefined : { kind: 'sent' };
  const separator = record.error.indexOf(': ');
  if (separator <= 0) return undefined;
  const type = record.error.slice(0, separator);
  const reason = record.error.slice(separator + 2);
  const retryable = RETRYABLE_ERROR_TYPES.find((known) => known === type);
  if (retryable) return { kind: 'retryable', errorType: retryable, reason };
  const permanent = PERMANENT_ERROR_TYPES.find((known) => known === type);
  return permanent ? { kind: 'permanent', errorType: permanent, reason } : undefined;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * The request itself is one the HTTP client refuses to build (e.g. a header value with a control
 * character, DEL or a code point above U+00FF): it is refused the same way on every attempt.
 */
const INVALID_REQUEST_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_URL',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_HTTP_INVALID_HEADER_VALUE',
]);

/**
 * The refusals whose message names only a header (undici's wording); any other message may quote
 * the offending value or URL, which must not reach the database or Temporal history.
 */
const HEADER_NAMING_MESSAGE = /^invalid ([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256} header|header key)$/;

/** Classifies an error thrown while sending (no HTTP status was received). */
export function classifySendError(error: unknown): AttemptOutcome {
  const chain = errorChain(error);
  const refusal = chain.find((link) => link.code === NON_PUBLIC_ADDRESS_CODE);
  if (refusal) return { kind: 'permanent', errorType: 'DestinationNotPublic', reason: refusal.message };
  const invalid = chain.find((link) => link.code !== undefined && INVALID_REQUEST_CODES.has(link.code));
  if (invalid) {
    const detail = HEADER_NAMING_MESSAGE.test(invalid.message) ? `: ${invalid.message}` : '';
    return { kind: 'permanent', errorType: 'InvalidRequest', reason: `request refused before sending (${invalid.code})${detail}` };
  }
  if (chain.some((link) => link.code !== undefined && TIMEOUT_CODES.has(link.code))) {
    return { kind: 'retryable', errorType: 'AttemptTimeout', reason: 'receiver did not answer within the attempt timeout' };
  }
  const innermost = chain.at(-1);
  const detail = chain.find((link) => link.code !== undefined)?.code ?? innermost?.message ?? String(error);
  return { kind: 'retryable', errorType: 'NetworkError', reason: `network error: ${detail}` };
}

/** undici wraps connector errors in its own; the code that matters may sit on a cause. */
function errorChain(error: unknown): { code: string | undefined; message: string }[] {
  const chain: { code: string | undefined; message: string }[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    chain.push({ code: typeof code === 'string' ? code : undefined, message: current.message });
  }
  return chain;
}
