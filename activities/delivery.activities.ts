import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { Logger } from 'pino';
import type { AttemptRecord, AttemptStore, DeliveryTarget } from '../contract/attempt-store.js';
import type { DeliveryActivities, FinishDeliveryInput, SendWebhookInput } from '../contract/delivery-activities.js';
import type { DeliveryMetrics } from '../contract/delivery-metrics.js';
import { ACCOUNT_DISABLED_ERROR_TYPE } from '../contract/delivery-error-types.js';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS, type RetryPolicy } from '../contract/delivery-plan.js';
import type { WebhookConnector, WebhookResponse } from '../contract/webhook-connector.js';
import { classifySendError, classifyStatusCode, type AttemptOutcome } from './attempt-outcome.js';
import { retryWhileDatabaseUnavailable } from './database-retry.js';
import { responseExcerpt } from './response-excerpt.js';
import { parseRetryAfterMs } from './retry-after.js';

/** How often a slow attempt tells Temporal it is alive, which is also how it learns of a cancel. */
export const HEARTBEAT_INTERVAL_MS = 1000;
/** Recording an attempt stops retrying this long before the attempt's start-to-close timeout. */
const RECORD_DEADLINE_MARGIN_MS = 1000;

export interface DeliveryActivityDependencies {
  store: AttemptStore;
  http: WebhookConnector;
  /** No retry comes sooner than this (RETRY_MIN_INTERVAL_MS), whatever a Retry-After says. */
  minRetryIntervalMs: number;
  metrics: DeliveryMetrics;
  /** Every line it writes carries the event_id; never a header value, secret or query string. */
  logger: Logger;
  now?: () => number;
}

/** The retry numbers an attempt uses: the floor under Temporal's backoff and whether it is the run's last. */
type AttemptRetryNumbers = Omit<RetryPolicy, 'maxAgeMs'>;

/**
 * The input of attempts that workflow code from before the plan carried its timeout scheduled.
 * Temporal keeps retrying such an activity with its original input after a deploy, for at most
 * the run's retry window; its start-to-close timeout still holds the timeout snapshotted at dispatch.
 */
export interface LegacySendWebhookInput {
  eventId: string;
  backoff: AttemptRetryNumbers;
}

function attemptPlan(input: SendWebhookInput | LegacySendWebhookInput, startToCloseTimeoutMs: number): { attemptTimeoutMs: number; retry: AttemptRetryNumbers } {
  if ('backoff' in input) return { attemptTimeoutMs: startToCloseTimeoutMs - ATTEMPT_BOOKKEEPING_MARGIN_MS, retry: input.backoff };
  return input;
}

export function createDeliveryActivities({ store, http, minRetryIntervalMs, metrics, logger, now = Date.now }: DeliveryActivityDependencies) {
  return {
    /**
     * One attempt: load the delivery and its destination (secrets never travel through workflow
     * history), send it within the run's attempt timeout, record what happened, and tell Temporal
     * whether to try again. Timeout and retry numbers come from the input only: the destination
     * may have been edited since the run started, and Temporal's own timeouts follow the input.
     */
    async sendWebhook(input: SendWebhookInput | LegacySendWebhookInput): Promise<void> {
      const context = Context.current();
      const { attempt, workflowExecution, scheduledTimestampMs, scheduleToCloseTimeoutMs, startToCloseTimeoutMs } = context.info;
      const { eventId } = input;
      const { attemptTimeoutMs, retry } = attemptPlan(input, startToCloseTimeoutMs);
      const activityStartedAtMs = now();
      // Every line about the delivery names it; the account joins once the delivery is loaded.
      // Temporal counts attempts per scheduled activity; the run's count goes on across a hold.
      const runAttempt = ('attemptsBefore' in input ? (input.attemptsBefore ?? 0) : 0) + attempt;
      let log = logger.child({ event_id: eventId, attempt: runAttempt });
      // Once the request went out, its outcome must reach the database even while PostgreSQL blinks:
      // failing the activity instead would lose the outcome and make Temporal send the webhook again.
      // The record is idempotent per (event, run, attempt), so a retry never counts it twice.
      const recordWhileDatabaseUnavailable = (record: AttemptRecord) =>
        retryWhileDatabaseUnavailable(() => store.recordAttempt(record), {
          isUnavailable: (error) => store.isUnavailableError(error),
          deadlineMs: activityStartedAtMs + startToCloseTimeoutMs - RECORD_DEADLINE_MARGIN_MS,
          heartbeat: () => context.heartbeat(),
          onRetry: (error) => log.warn(databaseErrorFacts(error), 'database unavailable while recording the attempt; retrying'),
          now,
        });
      // Should the database refuse the excerpt itself (an outage is retried above, not this), the
      // attempt is recorded without it: failing the activity would lose the outcome and send the webhook again.
      const recordAttempt = async (record: AttemptRecord): Promise<boolean> => {
        try {
          return await recordWhileDatabaseUnavailable(record);
        } catch (error) {
          if (record.responseBody === null || store.isUnavailableError(error)) throw error;
          log.warn(databaseErrorFacts(error), 'the database refused the response excerpt; recording the attempt without it');
          return recordWhileDatabaseUnavailable({ ...record, responseBody: null });
        }
      };
      const target = await store.loadTarget(eventId);
      // Also what an attempt of a deleted account's delivery finds: its rows went with the account.
      if (!target) throw ApplicationFailure.nonRetryable(`delivery ${eventId} does not exist`, 'DeliveryNotFound');
      log = log.child({ account_id: target.accountId });
      if (!target.accountEnabled) {
        log.info('account disabled: the delivery waits until it is enabled');
        // Non-retryable so that Temporal spends no attempt and no retry window on it: the workflow holds the delivery.
        // The details say how many attempts this activity made, so the next one numbers its attempts on from there.
        throw ApplicationFailure.create({ type: ACCOUNT_DISABLED_ERROR_TYPE, message: `account ${target.accountId} is disabled`, nonRetryable: true, details: [attempt - 1] });
      }
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
          timeoutMs: attemptTimeoutMs,
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
        attempt: runAttempt,
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
          // The workflow records `cancelled` once this attempt has ended.
          status: null,
        });
        throw context.cancellationSignal.reason;
      }

      const windowEndMs = scheduledTimestampMs + scheduleToCloseTimeoutMs;
      const retryFloorMs = Math.max(minRetryIntervalMs, retry.initialIntervalMs);
      const retryDelayMs =
        outcome.kind === 'retryable'
          ? nextRetryDelayMs(retry, attempt, parseRetryAfterMs(response?.retryAfter, finishedAtMs), windowEndMs - finishedAtMs, retryFloorMs)
          : undefined;
      const lastAttempt = retry.maxAttempts > 0 && attempt >= retry.maxAttempts;
      const retrying = retryDelayMs !== undefined && !lastAttempt;

      // A permanent failure or the last attempt leaves the status to the workflow, the one writer of `failed`.
      const tookRecord = await recordAttempt({
        ...attemptFacts,
        statusCode: response?.statusCode ?? null,
        error: outcome.kind === 'sent' ? null : `${outcome.errorType}: ${outcome.reason}`,
        responseBody: excerpt,
        status: outcome.kind === 'sent' ? 'sent' : retrying ? 'retrying' : null,
      });

      const statusClass = attemptStatusClass(outcome, response?.statusCode);
      metrics.attempt(statusClass, attemptFacts.durationMs);
      log.info(
        { status_code: response?.statusCode ?? null, duration_ms: attemptFacts.durationMs, outcome: outcome.kind, host: new URL(destination.url).host },
        outcome.kind === 'sent' ? 'webhook accepted' : outcome.reason,
      );
      if (outcome.kind === 'sent') {
        // Counted with the status change: a repeated record of the same acceptance counts nothing.
        if (tookRecord) metrics.finished('sent');
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

    /** The run's final status, written by the workflow alone; repeated after a lost reply, it changes and counts nothing. */
    async finishDelivery({ eventId, status, reason }: FinishDeliveryInput): Promise<void> {
      const finished = await store.finish(eventId, status, reason);
      if (!finished) {
        logger.info({ event_id: eventId, status }, `delivery already finished; not recording ${status}`);
        return;
      }
      metrics.finished(status);
      logger.info({ event_id: eventId, status }, `delivery ${status}: ${reason}`);
    },
  } satisfies DeliveryActivities;
}

/**
 * The delay before the next attempt: the receiver's Retry-After when it gave one (never past
 * the end of the retry window), else Temporal's exponential backoff for this attempt number;
 * never below `floorMs`. `overridesBackoff` says Temporal must be told the delay (nextRetryDelay).
 */
export function nextRetryDelayMs(
  backoff: AttemptRetryNumbers,
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
