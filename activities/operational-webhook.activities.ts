import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import {
  OPERATIONAL_NOTIFICATION_NOT_FOUND_ERROR_TYPE,
  OPERATIONAL_WEBHOOK_REMOVED_ERROR_TYPE,
  type FailOperationalWebhookInput,
  type OperationalWebhookActivities,
  type SendOperationalWebhookInput,
} from '../contract/operational-webhook-activities.js';
import type { OperationalWebhookAttemptRecord, OperationalWebhookStore } from '../contract/operational-webhook-store.js';
import type { WebhookConnector, WebhookResponse } from '../contract/webhook-connector.js';
import { classifySendError, classifyStatusCode, type AttemptOutcome } from './attempt-outcome.js';
import { retryWhileDatabaseUnavailable } from './database-retry.js';
import { nextRetryDelayMs } from './delivery.activities.js';
import { parseRetryAfterMs } from './retry-after.js';
import { standardWebhookHeaders } from './standard-webhook-headers.js';

/** Recording an attempt stops retrying this long before the attempt's start-to-close timeout. */
const RECORD_DEADLINE_MARGIN_MS = 1000;

export interface OperationalWebhookActivityDependencies {
  store: OperationalWebhookStore;
  /** The worker's guarded connector: the account's URL is checked against the SSRF rules at connect time too. */
  http: WebhookConnector;
  /** No retry comes sooner than this (RETRY_MIN_INTERVAL_MS), whatever a Retry-After says. */
  minRetryIntervalMs: number;
  /** Every line names the notification; never its URL, body, secret or signature. */
  logger: Logger;
  now?: () => number;
}

/**
 * The account-level channel: one POST per attempt to the account's operational_webhook_url. It
 * shares the HTTP client, the classification of outcomes and the Retry-After rules with deliveries,
 * and nothing else: no destination's breaker, limits or attempts ever see these requests.
 */
export function createOperationalWebhookActivities({ store, http, minRetryIntervalMs, logger, now = Date.now }: OperationalWebhookActivityDependencies) {
  return {
    /**
     * One attempt: load the notification and the account's URL and secrets as they are now (they
     * never travel through workflow history), send, record, and tell Temporal whether to retry.
     */
    async sendOperationalWebhook({ notificationId, attemptTimeoutMs, retry }: SendOperationalWebhookInput): Promise<void> {
      const context = Context.current();
      const { attempt, scheduledTimestampMs, scheduleToCloseTimeoutMs, startToCloseTimeoutMs } = context.info;
      const activityStartedAtMs = now();
      let log = logger.child({ notification_id: notificationId, attempt });

      const target = await store.loadTarget(notificationId);
      if (!target) throw ApplicationFailure.nonRetryable(`operational notification ${notificationId} does not exist`, OPERATIONAL_NOTIFICATION_NOT_FOUND_ERROR_TYPE);
      log = log.child({ account_id: target.accountId });
      // A previous attempt was accepted but its completion never reached Temporal: do not send twice.
      if (target.status !== 'pending') return;
      const { endpoint } = target;
      if (!endpoint) {
        throw ApplicationFailure.nonRetryable('the account removed its operational_webhook_url before the notification was sent', OPERATIONAL_WEBHOOK_REMOVED_ERROR_TYPE);
      }

      const startedAtMs = now();
      let outcome: AttemptOutcome;
      let response: WebhookResponse | undefined;
      try {
        response = await http.send({
          url: endpoint.url,
          method: 'POST',
          headers: standardWebhookHeaders(notificationId, endpoint.signingSecrets, target.body, startedAtMs),
          body: target.body,
          timeoutMs: attemptTimeoutMs,
        });
        outcome = classifyStatusCode(response.statusCode);
      } catch (error) {
        outcome = classifySendError(error);
      }
      const finishedAtMs = now();

      // Once the request went out its outcome must be kept even while PostgreSQL blinks; the
      // record is idempotent per attempt, so a repeat never counts it twice.
      const record: OperationalWebhookAttemptRecord = {
        notificationId,
        attempt,
        statusCode: response?.statusCode ?? null,
        error: outcome.kind === 'sent' ? null : `${outcome.errorType}: ${outcome.reason}`,
        sent: outcome.kind === 'sent',
      };
      await retryWhileDatabaseUnavailable(() => store.recordAttempt(record), {
        isUnavailable: (error) => store.isUnavailableError(error),
        deadlineMs: activityStartedAtMs + startToCloseTimeoutMs - RECORD_DEADLINE_MARGIN_MS,
        heartbeat: () => context.heartbeat(),
        onRetry: () => log.warn('database unavailable while recording the operational webhook attempt; retrying'),
        now,
      });
      log.info(
        { status_code: record.statusCode, duration_ms: finishedAtMs - startedAtMs, outcome: outcome.kind, host: new URL(endpoint.url).host },
        outcome.kind === 'sent' ? 'operational webhook accepted' : outcome.reason,
      );

      if (outcome.kind === 'sent') return;
      const details = [{ statusCode: record.statusCode }];
      if (outcome.kind === 'permanent') {
        throw ApplicationFailure.create({ type: outcome.errorType, message: outcome.reason, nonRetryable: true, details });
      }
      const delay = nextRetryDelayMs(
        retry,
        attempt,
        parseRetryAfterMs(response?.retryAfter, finishedAtMs),
        scheduledTimestampMs + scheduleToCloseTimeoutMs - finishedAtMs,
        Math.max(minRetryIntervalMs, retry.initialIntervalMs),
      );
      throw ApplicationFailure.create({
        type: outcome.errorType,
        message: outcome.reason,
        details,
        // Only a Retry-After or the retry floor overrides Temporal's own backoff.
        nextRetryDelay: delay.overridesBackoff ? delay.delayMs : undefined,
      });
    },

    /** The notification's final `failed`, written by the workflow alone; a repeat changes nothing. */
    async failOperationalWebhook({ notificationId, reason }: FailOperationalWebhookInput): Promise<void> {
      const failed = await store.fail(notificationId, reason);
      logger.info({ notification_id: notificationId }, failed ? `operational notification failed: ${reason}` : 'operational notification already finished; not recording failed');
    },
  } satisfies OperationalWebhookActivities;
}
