import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { Logger } from 'pino';
import { isDatabaseUnavailableError } from '../src/database/database-errors.js';
import type { AttemptRecord, DeliveryStore, DeliveryTarget } from '../src/deliveries/delivery.store.js';
import type { DeliveryMetrics } from '../src/metrics/delivery-metrics.js';
import { classifySendError, classifyStatusCode, type AttemptOutcome } from './attempt-outcome.js';
import { retryWhileDatabaseUnavailable } from './database-retry.js';
import { responseExcerpt } from './response-excerpt.js';
import { parseRetryAfterMs } from './retry-after.js';
import type { WebhookHttpClient, WebhookResponse } from './webhook-http-client.js';

/** How often a slow attempt tells Temporal it is alive, which is also how it learns of a cancel. */
export const HEARTBEAT_INTERVAL_MS = 1000;
/** Recording an attempt stops retrying this long before the attempt's start-to-close timeout. */
const RECORD_DEADLINE_MARGIN_MS = 1000;

export interface DeliveryActivityDependencies {
  store: DeliveryStore;
  http: WebhookHttpClient;
  /** Used when the destination has no timeout of its own. */
  defaultTimeoutMs: number;
  /** No retry comes sooner than this (RETRY_MIN_INTERVAL_MS), whatever a Retry-After says. */
  minRetryIntervalMs: number;
  metrics: DeliveryMetrics;
  /** Every line it writes carries the event_id; never a header value, secret or query string. */
  logger: Logger;
  now?: () => number;
}

/** The retry numbers the workflow runs the activity with; used to tell operators when the next attempt is due. */
export interface BackoffSchedule {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  /** Attempts this run may make; always 1..MAX_ATTEMPTS_PER_RUN (runs started before that cap may carry 0 = unlimited). */
  maxAttempts: number;
}

export interface SendWebhookInput {
  eventId: string;
  backoff: BackoffSchedule;
}

export interface FinishDeliveryInput {
  eventId: string;
  status: 'failed' | 'cancelled';
  reason: string;
}

export function createDeliveryActivities({ store, http, defaultTimeoutMs, minRetryIntervalMs, metrics, logger, now = Date.now }: DeliveryActivityDependencies) {
  return {
    /**
     * One attempt: load the delivery and its destination (secrets never travel through workflow
     * history), send it, record what happened, and tell Temporal whether to try again.
     */
    async sendWebhook({ eventId, backoff }: SendWebhookInput): Promise<void> {
      const context = Context.current();
      const { attempt, workflowExecution, scheduledTimestampMs, scheduleToCloseTimeoutMs, startToCloseTimeoutMs } = context.info;
      const activityStartedAtMs = now();
      const log = logger.child({ event_id: eventId, attempt });
      // Once the request went out, its outcome must reach the database even while PostgreSQL blinks:
      // failing the activity instead would lose the outcome and make Temporal send the webhook again.
      // The record is idempotent per (event, run, attempt), so a retry never counts it twice.
      const recordWhileDatabaseUnavailable = (record: AttemptRecord) =>
        retryWhileDatabaseUnavailable(() => store.recordAttempt(record), {
          deadlineMs: activityStartedAtMs + startToCloseTimeoutMs - RECORD_DEADLINE_MARGIN_MS,
          heartbeat: () => context.heartbeat(),
          onRetry: (error) => log.warn(databaseErrorFacts(error), 'database unavailable while recording the attempt; retrying'),
          now,
        });
      // Should the database refuse the excerpt itself (an outage is retried above, not this), the
      // attempt is recorded without it: failing the activity would lose the outcome and send the webhook again.
      const recordAttempt = async (record: AttemptRecord) => {
        try {
          await recordWhileDatabaseUnavailable(record);
        } catch (error) {
          if (record.responseBody === null || isDatabaseUnavailableError(error)) throw error;
          log.warn(databaseErrorFacts(error), 'the database refused the response excerpt; recording the attempt without it');
          await recordWhileDatabaseUnavailable({ ...record, responseBody: null });
        }
      };
      const target = await store.loadTarget(eventId);
      if (!target) throw ApplicationFailure.nonRetryable(`delivery ${eventId} does not exist`, 'DeliveryNotFound');
      // A previous attempt was acknowledged but its completion never reached Temporal: do not send twice.
      if (target.status === 'sent') return;
      const { destination } = target;
      if (destination.deleted || !destination.enabled) {
        const state = destination.deleted ? 'deleted' : 'disabled';
        throw ApplicationFailure.nonRetryable(`destination is ${state}`, 'DestinationUnavailable');
      }

      const startedAtMs = now();
      let outcome: AttemptOutcome;
      let response: WebhookResponse | undefined;
      const signed = signatureHeaders(eventId, [destination.signingSecret, destination.previousSigningSecret], target.body, startedAtMs);
      // Cancellation reaches a running activity only through heartbeats; a quick attempt sends none.
      const heartbeats = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
      try {
        response = await http.send({
          url: destination.url,
          method: destination.method,
          headers: { ...destination.headers, ...signed },
          body: target.body,
          timeoutMs: destination.timeoutMs ?? defaultTimeoutMs,
          signal: context.cancellationSignal,
        });
        outcome = classifyStatusCode(response.statusCode);
      } catch (error) {
        outcome = classifySendError(error);
      } finally {
        clearInterval(heartbeats);
      }
      // A 2xx is sent even when a cancel arrived while its excerpt was read; anything else yields to the cancel.
      const cancelled = outcome.kind !== 'sent' && context.cancellationSignal.aborted;
      const finishedAtMs = now();
      // Receivers that echo the request would otherwise put its secrets into what the API shows.
      const excerpt = response ? responseExcerpt(response.bodyStart, secretsToMask(destination, signed['webhook-signature'])) : null;
      const attemptFacts = {
        eventId,
        workflowRunId: workflowExecution?.runId ?? 'none',
        attempt,
        startedAt: new Date(startedAtMs),
        durationMs: finishedAtMs - startedAtMs,
      };
      if (cancelled) {
        metrics.attempt('cancelled', attemptFacts.durationMs);
        log.info('attempt aborted by a cancellation');
        await recordAttempt({
          ...attemptFacts,
          statusCode: response?.statusCode ?? null,
          error: 'Cancelled: the attempt was aborted by a cancellation',
          responseBody: excerpt,
          status: 'retrying',
          nextAttemptAt: null,
        });
        throw context.cancellationSignal.reason;
      }

      const windowEndMs = scheduledTimestampMs + scheduleToCloseTimeoutMs;
      const retryFloorMs = Math.max(minRetryIntervalMs, backoff.initialIntervalMs);
      const retryDelayMs =
        outcome.kind === 'retryable'
          ? nextRetryDelayMs(backoff, attempt, parseRetryAfterMs(response?.retryAfter, finishedAtMs), windowEndMs - finishedAtMs, retryFloorMs)
          : undefined;
      const lastAttempt = backoff.maxAttempts > 0 && attempt >= backoff.maxAttempts;

      await recordAttempt({
        ...attemptFacts,
        statusCode: response?.statusCode ?? null,
        error: outcome.kind === 'sent' ? null : `${outcome.errorType}: ${outcome.reason}`,
        responseBody: excerpt,
        status: outcome.kind === 'sent' ? 'sent' : outcome.kind === 'permanent' ? 'failed' : 'retrying',
        nextAttemptAt: retryDelayMs !== undefined && !lastAttempt ? new Date(finishedAtMs + retryDelayMs.delayMs) : null,
      });

      const statusClass = attemptStatusClass(outcome, response?.statusCode);
      metrics.attempt(statusClass, attemptFacts.durationMs);
      log.info(
        { status_code: response?.statusCode ?? null, duration_ms: attemptFacts.durationMs, outcome: outcome.kind, host: new URL(destination.url).host },
        outcome.kind === 'sent' ? 'webhook accepted' : outcome.reason,
      );
      if (outcome.kind === 'sent') {
        metrics.finished('sent');
        return;
      }
      const details = [{ statusCode: response?.statusCode ?? null }];
      if (outcome.kind === 'permanent') {
        throw ApplicationFailure.create({ type: outcome.errorType, message: outcome.reason, nonRetryable: true, details });
      }
      throw ApplicationFailure.create({
        type: outcome.errorType,
        message: outcome.reason,
        details,
        // Only a Retry-After or the retry floor overrides Temporal's own backoff.
        nextRetryDelay: retryDelayMs?.overridesBackoff ? retryDelayMs.delayMs : undefined,
      });
    },

    async finishDelivery({ eventId, status, reason }: FinishDeliveryInput): Promise<void> {
      await store.finish(eventId, status, reason);
      metrics.finished(status);
      logger.info({ event_id: eventId, status }, `delivery ${status}: ${reason}`);
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

/**
 * The delay before the next attempt: the receiver's Retry-After when it gave one (never past
 * the end of the retry window), else Temporal's exponential backoff for this attempt number;
 * never below `floorMs`. `overridesBackoff` says Temporal must be told the delay (nextRetryDelay).
 */
export function nextRetryDelayMs(
  backoff: BackoffSchedule,
  attempt: number,
  retryAfterMs: number | undefined,
  remainingWindowMs: number,
  floorMs: number,
): { delayMs: number; overridesBackoff: boolean } {
  if (retryAfterMs !== undefined) {
    // `Retry-After: 0` or a past date would hand Temporal a 0 ms delay, which ends the retries at once.
    // Kept even when the window ends sooner: Temporal then ends the delivery rather than retry early.
    return { delayMs: Math.max(floorMs, Math.min(retryAfterMs, remainingWindowMs)), overridesBackoff: true };
  }
  const exponential = Math.min(backoff.initialIntervalMs * backoff.backoffCoefficient ** (attempt - 1), backoff.maxIntervalMs);
  // A destination created before the configured minimum was raised may back off faster than it allows.
  if (exponential < floorMs) return { delayMs: floorMs, overridesBackoff: true };
  return { delayMs: exponential, overridesBackoff: false };
}

const STATUS_CLASS_BY_ERROR: Record<string, string> = {
  AttemptTimeout: 'timeout',
  NetworkError: 'network',
  DestinationNotPublic: 'refused',
  InvalidRequest: 'refused',
};

function attemptStatusClass(outcome: AttemptOutcome, statusCode: number | undefined): string {
  if (statusCode !== undefined) return `${Math.floor(statusCode / 100)}xx`;
  return outcome.kind === 'sent' ? '2xx' : (STATUS_CLASS_BY_ERROR[outcome.errorType] ?? 'network');
}

/**
 * Standard Webhooks headers; the timestamp is per attempt, the id is the stable event_id.
 * During a secret rotation the signature header lists one signature per secret, space-separated.
 */
function signatureHeaders(eventId: string, secrets: Array<string | null>, body: string, nowMs: number): Record<string, string> {
  const timestamp = new Date(nowMs);
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(nowMs / 1000)),
    'webhook-signature': secrets
      .filter((secret): secret is string => secret !== null)
      .map((secret) => new Webhook(secret).sign(eventId, timestamp, body))
      .join(' '),
  };
}

/**
 * What a stored excerpt must not show: the destination's header values, the signature header (whole,
 * each signature, each bare base64 digest) and, should a receiver ever learn them, the signing secrets.
 */
function secretsToMask(destination: DeliveryTarget['destination'], signatureHeader: string): string[] {
  const signatures = signatureHeader.split(' ').filter((signature) => signature !== '');
  const signingSecrets = [destination.signingSecret, destination.previousSigningSecret].filter((secret): secret is string => secret !== null);
  return [
    ...Object.values(destination.headers),
    signatureHeader,
    ...signatures,
    ...signatures.map((signature) => signature.slice(signature.indexOf(',') + 1)),
    ...signingSecrets,
    ...signingSecrets.map((secret) => secret.replace(/^whsec_/, '')),
  ];
}

/**
 * A database error as logged: its code and message only. TypeORM's QueryFailedError also carries
 * the statement's parameters, and a logger serialising the whole error would write them out.
 */
function databaseErrorFacts(error: unknown): { err_code: string | undefined; err_message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { err_code: typeof code === 'string' ? code : undefined, err_message: error instanceof Error ? error.message : String(error) };
}
