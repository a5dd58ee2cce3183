import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { Logger } from 'pino';
import type { AttemptRecord, DeliveryStore } from '../src/deliveries/delivery.store.js';
import type { DeliveryMetrics } from '../src/metrics/delivery-metrics.js';
import { classifySendError, classifyStatusCode, type AttemptOutcome } from './attempt-outcome.js';
import { retryWhileDatabaseUnavailable } from './database-retry.js';
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
  /** 0 = unlimited. */
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

export function createDeliveryActivities({ store, http, defaultTimeoutMs, metrics, logger, now = Date.now }: DeliveryActivityDependencies) {
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
      const recordAttempt = (record: AttemptRecord) =>
        retryWhileDatabaseUnavailable(() => store.recordAttempt(record), {
          deadlineMs: activityStartedAtMs + startToCloseTimeoutMs - RECORD_DEADLINE_MARGIN_MS,
          heartbeat: () => context.heartbeat(),
          onRetry: (error) => log.warn({ err: error }, 'database unavailable while recording the attempt; retrying'),
          now,
        });
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
      let cancelled = false;
      // Cancellation reaches a running activity only through heartbeats; a quick attempt sends none.
      const heartbeats = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
      try {
        response = await http.send({
          url: destination.url,
          method: destination.method,
          headers: { ...destination.headers, ...signatureHeaders(eventId, [destination.signingSecret, destination.previousSigningSecret], target.body, startedAtMs) },
          body: target.body,
          timeoutMs: destination.timeoutMs ?? defaultTimeoutMs,
          signal: context.cancellationSignal,
        });
        outcome = classifyStatusCode(response.statusCode);
      } catch (error) {
        cancelled = context.cancellationSignal.aborted;
        outcome = classifySendError(error);
      } finally {
        clearInterval(heartbeats);
      }
      const finishedAtMs = now();
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
          statusCode: null,
          error: 'Cancelled: the attempt was aborted by a cancellation',
          responseBody: null,
          status: 'retrying',
          nextAttemptAt: null,
        });
        throw context.cancellationSignal.reason;
      }

      const windowEndMs = scheduledTimestampMs + scheduleToCloseTimeoutMs;
      const retryDelayMs =
        outcome.kind === 'retryable'
          ? nextRetryDelayMs(backoff, attempt, parseRetryAfterMs(response?.retryAfter, finishedAtMs), windowEndMs - finishedAtMs)
          : undefined;
      const lastAttempt = backoff.maxAttempts > 0 && attempt >= backoff.maxAttempts;

      await recordAttempt({
        ...attemptFacts,
        statusCode: response?.statusCode ?? null,
        error: outcome.kind === 'sent' ? null : `${outcome.errorType}: ${outcome.reason}`,
        responseBody: response?.bodyExcerpt ?? null,
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
        // Only a Retry-After overrides Temporal's own backoff.
        nextRetryDelay: retryDelayMs?.fromRetryAfter ? retryDelayMs.delayMs : undefined,
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
 * the end of the retry window), else Temporal's exponential backoff for this attempt number.
 */
export function nextRetryDelayMs(
  backoff: BackoffSchedule,
  attempt: number,
  retryAfterMs: number | undefined,
  remainingWindowMs: number,
): { delayMs: number; fromRetryAfter: boolean } {
  if (retryAfterMs !== undefined) {
    return { delayMs: Math.max(0, Math.min(retryAfterMs, remainingWindowMs)), fromRetryAfter: true };
  }
  const exponential = backoff.initialIntervalMs * backoff.backoffCoefficient ** (attempt - 1);
  return { delayMs: Math.min(exponential, backoff.maxIntervalMs), fromRetryAfter: false };
}

const STATUS_CLASS_BY_ERROR: Record<string, string> = {
  AttemptTimeout: 'timeout',
  NetworkError: 'network',
  DestinationNotPublic: 'refused',
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
