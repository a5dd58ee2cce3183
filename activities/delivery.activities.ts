import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { AttemptRecord, AttemptStore, DeliveryTarget } from '../contract/attempt-store.js';
import type { AttemptFailureDetails, DeliveryActivities, FinishDeliveryInput, SendWebhookInput, SendWebhookResult } from '../contract/delivery-activities.js';
import type { DeliveryMetrics } from '../contract/delivery-metrics.js';
import { DESTINATION_DISABLED_ERROR_TYPE } from '../contract/delivery-error-types.js';
import type { OperationalNotification, OperationalNotifier } from '../contract/operational-notifier.js';
import type { BreakerSettings, DeliveryWaker, HealthOutcome, HoldReason, ReleaseResult, TrafficGate, TrafficLimits } from '../contract/traffic-gate.js';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS, type RetryPolicy } from '../contract/delivery-plan.js';
import type { WebhookConnector, WebhookResponse } from '../contract/webhook-connector.js';
import { classifySendError, classifyStatusCode, recordedOutcome, type AttemptOutcome } from './attempt-outcome.js';
import { retryWhileDatabaseUnavailable } from './database-retry.js';
import { responseExcerpt } from './response-excerpt.js';
import { standardWebhookHeaders } from './standard-webhook-headers.js';
import { outgoingRequest, type OutgoingRequest } from './outgoing-request.js';
import { successBodyMatcher } from './success-body.js';
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
  /** Admission before each attempt and the destination's health after it (docs/TRAFFIC.md). */
  gate: TrafficGate;
  waker: DeliveryWaker;
  notifier: OperationalNotifier;
  /** The configured traffic defaults, under the account's and the destination's own. */
  traffic: TrafficDefaultsForAttempts;
  now?: () => number;
  /** Spreads the wake-ups of deliveries held by an open breaker; injectable for tests. */
  random?: () => number;
}

export interface TrafficDefaultsForAttempts {
  maxInFlight: number | null;
  ratePerSecond: number | null;
  breakerFailureThreshold: number;
  breakerCooldownMs: number;
  autoDisableAfterMs: number | null;
}

/** The longest spread added to a breaker's cool-down, so its waiters do not all ask in the same instant. */
const BREAKER_WAKE_SPREAD_MS = 2_000;

/** Marks a test event (POST …/destinations/:id/test) for the receiver; the body stays the seed's, field for field. */
export const TEST_EVENT_HEADER = { 'webhook-test': 'true' } as const;

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

export function createDeliveryActivities(dependencies: DeliveryActivityDependencies) {
  const { store, http, minRetryIntervalMs, metrics, logger, gate, waker, notifier, traffic, now = Date.now, random = Math.random } = dependencies;

  /** Notifications must never fail an attempt: a lost one is logged, the delivery goes on. */
  const notifyQuietly = async (notification: OperationalNotification, log: Logger) => {
    try {
      await notifier.notify(notification);
    } catch (error) {
      log.warn({ err_message: error instanceof Error ? error.message : String(error), type: notification.type }, 'operational notification not stored');
    }
  };

  /** What the release changed: wake waiters, tell the account. Failures are logged; leases expire by themselves. */
  const release = async (target: DeliveryTarget, breaker: BreakerSettings, outcome: HealthOutcome, log: Logger): Promise<ReleaseResult | undefined> => {
    let result: ReleaseResult;
    try {
      result = await gate.release({ destinationId: target.destination.id, accountId: target.accountId, eventId: target.eventId, outcome, breaker });
    } catch (error) {
      log.warn(databaseErrorFacts(error), 'traffic gate not updated after the attempt; its lease expires on its own');
      return undefined;
    }
    if (result.wake.length > 0) {
      await waker.wake(result.wake).catch((error: unknown) => log.warn({ err_message: String(error) }, 'waking held deliveries failed; they wake on their own timers'));
    }
    const destinationId = target.destination.id;
    const common = { accountId: target.accountId };
    if (result.opened) {
      log.warn({ destination_id: destinationId }, `breaker opened: ${result.opened.reason}`);
      await notifyQuietly({ ...common, type: 'destination.failing', key: `destination.failing:${destinationId}:${result.opened.atMs}`, occurredAtMs: result.opened.atMs, data: { destination_id: destinationId, reason: result.opened.reason, retry_after_ms: breaker.cooldownMs } }, log);
    }
    if (result.recovered) {
      log.info({ destination_id: destinationId }, 'breaker closed: the destination accepts webhooks again');
      await notifyQuietly({ ...common, type: 'destination.recovered', key: `destination.recovered:${destinationId}:${result.recovered.atMs}`, occurredAtMs: result.recovered.atMs, data: { destination_id: destinationId } }, log);
    }
    if (result.disabled) {
      log.warn({ destination_id: destinationId }, `destination disabled: ${result.disabled.reason}`);
      await notifyQuietly({ ...common, type: 'destination.disabled', key: `destination.disabled:${destinationId}:${result.disabled.atMs}`, occurredAtMs: result.disabled.atMs, data: { destination_id: destinationId, reason: result.disabled.reason } }, log);
    }
    return result;
  };

  return {
    /**
     * One attempt: load the delivery and its destination (secrets never travel through workflow
     * history), send it within the run's attempt timeout, record what happened, and tell Temporal
     * whether to try again. Timeout and retry numbers come from the input only: the destination
     * may have been edited since the run started, and Temporal's own timeouts follow the input.
     */
    async sendWebhook(input: SendWebhookInput | LegacySendWebhookInput): Promise<SendWebhookResult | void> {
      const context = Context.current();
      const { attempt, workflowExecution, scheduledTimestampMs, scheduleToCloseTimeoutMs, startToCloseTimeoutMs } = context.info;
      const { eventId } = input;
      const { attemptTimeoutMs, retry } = attemptPlan(input, startToCloseTimeoutMs);
      const activityStartedAtMs = now();
      // Every line about the delivery names it; the account joins once the delivery is loaded.
      // Temporal counts attempts per scheduled activity; the run's count goes on across a hold.
      const runAttempt = ('attemptsBefore' in input ? (input.attemptsBefore ?? 0) : 0) + attempt;
      let log = logger.child({ event_id: eventId, attempt: runAttempt });
      // A local activity (the run's first attempt) has no heartbeats: the SDK refuses them with a
      // warning each, and its cancellation reaches cancellationSignal directly.
      const heartbeat = context.info.isLocal ? () => undefined : () => context.heartbeat();
      // Once the request went out, its outcome must reach the database even while PostgreSQL blinks:
      // failing the activity instead would lose the outcome and make Temporal send the webhook again.
      // The record is idempotent per (event, run, attempt), so a retry never counts it twice.
      const recordWhileDatabaseUnavailable = (record: AttemptRecord) =>
        retryWhileDatabaseUnavailable(() => store.recordAttempt(record), {
          isUnavailable: (error) => store.isUnavailableError(error),
          deadlineMs: activityStartedAtMs + startToCloseTimeoutMs - RECORD_DEADLINE_MARGIN_MS,
          heartbeat,
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
      const target = await store.loadTarget(eventId, { workflowRunId: workflowExecution?.runId ?? 'none', attempt: runAttempt });
      // Also what an attempt of a deleted account's delivery finds: its rows went with the account.
      if (!target) throw ApplicationFailure.nonRetryable(`delivery ${eventId} does not exist`, 'DeliveryNotFound');
      log = log.child({ account_id: target.accountId });
      // Held, not failed: the workflow waits and schedules the attempt again; the attempts made so far carry on.
      const held = (reason: HoldReason, waitMs: number, exact: boolean, reservedSlotAtMs?: number): SendWebhookResult => ({
        held: { reason, waitMs: Math.round(waitMs), attemptsMade: attempt - 1, exact, reservedSlotAtMs },
      });
      if (!target.accountEnabled) {
        log.info('account disabled: the delivery waits until it is enabled');
        return held('account_disabled', 0, false);
      }
      // A previous attempt was acknowledged but its completion never reached Temporal: do not send twice.
      if (target.status === 'sent') return;
      const windowEndMs = scheduledTimestampMs + scheduleToCloseTimeoutMs;
      const retryFloorMs = Math.max(minRetryIntervalMs, retry.initialIntervalMs);
      // This very attempt was made and recorded by an earlier execution: a workflow task redone after
      // its local first attempt had ended (the result never reached the history) runs the attempt
      // again. Its recorded outcome stands and the receiver gets nothing twice; the gate already
      // had that execution's release.
      const repeated = target.recordedAttempt && recordedOutcome(target.recordedAttempt);
      if (target.recordedAttempt && repeated) {
        log.warn({ outcome: repeated.kind }, 'attempt already made and recorded by an earlier execution; not sending it again');
        if (repeated.kind === 'sent') return;
        const { statusCode, endedAtMs } = target.recordedAttempt;
        const retryDelayMs = repeated.kind === 'retryable' ? nextRetryDelayMs(retry, runAttempt, undefined, windowEndMs - endedAtMs, retryFloorMs) : undefined;
        throw failedAttempt(repeated, { statusCode, retryDelayMs: retryDelayMs?.delayMs, endedAtMs }, retryDelayMs);
      }
      const { destination } = target;
      if (destination.deleted) throw ApplicationFailure.nonRetryable('destination is deleted', 'DestinationUnavailable');
      if (!destination.enabled) throw ApplicationFailure.nonRetryable('destination is disabled', DESTINATION_DISABLED_ERROR_TYPE);
      if (destination.paused) {
        log.info('destination paused: the delivery waits until it is resumed');
        return held('destination_paused', 0, false);
      }

      const limits: TrafficLimits = {
        ratePerSecond: destination.ratePerSecond ?? target.accountTraffic.ratePerSecond ?? traffic.ratePerSecond,
        maxInFlight: destination.maxInFlight ?? target.accountTraffic.maxInFlight ?? traffic.maxInFlight,
      };
      const breaker: BreakerSettings = {
        failureThreshold: traffic.breakerFailureThreshold,
        cooldownMs: traffic.breakerCooldownMs,
        autoDisableAfterMs: target.accountTraffic.autoDisableAfterMs ?? traffic.autoDisableAfterMs,
      };
      const admission = await gate.admit({
        destinationId: destination.id,
        accountId: target.accountId,
        eventId,
        workflowId: workflowExecution?.workflowId ?? `delivery-${eventId}`,
        limits,
        breaker,
        // Should this worker die mid-attempt, its slot frees itself once the attempt could no longer be running.
        leaseMs: startToCloseTimeoutMs,
        // A reservation belongs to the activity's first try: a retry after a failed attempt takes a new slot.
        reservedSlotAtMs: attempt === 1 && 'reservedSlotAtMs' in input ? input.reservedSlotAtMs : undefined,
      });
      if (!admission.admitted) {
        log.debug({ reason: admission.reason, wait_ms: admission.waitMs }, 'delivery held by the traffic gate');
        const spread = admission.reason === 'breaker_open' ? random() * Math.min(BREAKER_WAKE_SPREAD_MS, breaker.cooldownMs) : 0;
        return held(admission.reason, admission.waitMs + spread, admission.exact, admission.reservedSlotAtMs);
      }

      // From here the attempt holds a slot: whatever happens, it is released with the outcome, once.
      let health: HealthOutcome = { kind: 'neutral' };
      let released = false;
      const releaseOnce = () => {
        released = true;
        return release(target, breaker, health, log);
      };
      try {
        // A rate slot less than a second ahead: waited for here, where a sleep is precise (a cancel ends it).
        if (admission.delayMs > 0) await context.sleep(admission.delayMs);
        const startedAtMs = now();
        let outcome: AttemptOutcome;
        let response: WebhookResponse | undefined;
        let request: OutgoingRequest;
        try {
          request = outgoingRequest(target);
        } catch (error) {
          throw ApplicationFailure.nonRetryable(`the destination's request cannot be built: ${(error as Error).message}`, 'InvalidRequest');
        }
        const signingSecrets = [destination.signingSecret, destination.previousSigningSecret].filter((secret): secret is string => secret !== null);
        const signed = standardWebhookHeaders(eventId, signingSecrets, request.body ?? '', startedAtMs);
        // Cancellation reaches a running regular activity only through heartbeats; a quick attempt sends none.
        const heartbeats = setInterval(heartbeat, HEARTBEAT_INTERVAL_MS);
        try {
          response = await http.send({
            url: request.url,
            method: request.method,
            headers: { ...destination.headers, ...signed, ...(target.test ? TEST_EVENT_HEADER : {}) },
            body: request.body,
            contentType: request.contentType,
            timeoutMs: attemptTimeoutMs,
            signal: context.cancellationSignal,
          });
          outcome = classifyStatusCode(response.statusCode);
          if (outcome.kind === 'sent' && destination.successBody !== null) outcome = checkSuccessBody(destination.successBody, response);
        } catch (error) {
          outcome = classifySendError(error);
        } finally {
          clearInterval(heartbeats);
        }
        // A 2xx is sent even when a cancel arrived while its excerpt was read; anything else yields to the cancel.
        const cancelled = outcome.kind !== 'sent' && context.cancellationSignal.aborted;
        // A test event says nothing about the destination's health: it neither opens nor closes the breaker.
        if (!cancelled && !target.test) health = healthOutcome(outcome);
        const finishedAtMs = now();
        // Receivers that echo the request would otherwise put its secrets into what the API shows.
        const excerpt = response ? responseExcerpt(response.bodyStart, [...secretsToMask(destination, signed['webhook-signature']), ...request.secrets]) : null;
        const attemptFacts = {
          requestLine: request.requestLine,
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

        const retryDelayMs =
          outcome.kind === 'retryable'
            ? nextRetryDelayMs(retry, runAttempt, parseRetryAfterMs(response?.retryAfter, finishedAtMs), windowEndMs - finishedAtMs, retryFloorMs)
            : undefined;
        // The run's attempts, not this activity's: a hold schedules a new activity with what is left.
        const lastAttempt = retry.maxAttempts > 0 && runAttempt >= retry.maxAttempts;
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
          { status_code: response?.statusCode ?? null, duration_ms: attemptFacts.durationMs, outcome: outcome.kind, host: new URL(request.url).host },
          outcome.kind === 'sent' ? 'webhook accepted' : outcome.reason,
        );
        if (outcome.kind === 'sent') {
          // Counted with the status change: a repeated record of the same acceptance counts nothing.
          if (tookRecord) metrics.finished('sent');
          return;
        }
        if (admission.probe && retrying) {
          // A failed probe waits out the next cool-down itself and probes again: one attempt per
          // cool-down however long the receiver stays down, whatever Temporal's backoff would be.
          // The attempt counts (it was made and recorded); the wait does not.
          return { held: { reason: 'breaker_open', waitMs: breaker.cooldownMs, attemptsMade: attempt, exact: true } };
        }
        if (retrying && outcome.kind === 'retryable') {
          // A retry due while the breaker is open would only be held: it waits for the cool-down's
          // end instead (or for its own backoff, when that is longer), spread as held deliveries are,
          // and saves Temporal an activity and two workflow tasks per retry of a destination that is down.
          const openUntilMs = (await releaseOnce())?.openUntilMs;
          if (openUntilMs !== undefined) {
            const untilReopenMs = openUntilMs - finishedAtMs + random() * Math.min(BREAKER_WAKE_SPREAD_MS, breaker.cooldownMs);
            if (untilReopenMs > retryDelayMs.delayMs) {
              return { held: { reason: 'breaker_open', waitMs: Math.round(untilReopenMs), attemptsMade: attempt, exact: true } };
            }
          }
        }
        throw failedAttempt(outcome, { statusCode: response?.statusCode ?? null, retryDelayMs: retryDelayMs?.delayMs, endedAtMs: finishedAtMs }, retryDelayMs);
      } finally {
        if (!released) await releaseOnce();
      }
    },

    /** The run's final status, written by the workflow alone; repeated after a lost reply, it changes and counts nothing. */
    async finishDelivery({ eventId, status, reason }: FinishDeliveryInput): Promise<void> {
      const finished = await store.finish(eventId, status, reason);
      const log = logger.child({ event_id: eventId });
      if (!finished) {
        log.info({ status }, `delivery already finished; not recording ${status}`);
        return;
      }
      metrics.finished(status);
      log.info({ status, account_id: finished.accountId }, `delivery ${status}: ${reason}`);
      if (status === 'failed') {
        const runId = Context.current().info.workflowExecution?.runId ?? 'none';
        await notifyQuietly(
          {
            accountId: finished.accountId,
            type: 'delivery.exhausted',
            key: `delivery.exhausted:${eventId}:${runId}`,
            occurredAtMs: now(),
            data: { event_id: eventId, destination_id: finished.destinationId, event: finished.targetEvent, reason },
          },
          log,
        );
      }
    },
  } satisfies DeliveryActivities;
}

/**
 * The delay before the next attempt: the receiver's Retry-After when it gave one (never past
 * the end of the retry window), else the exponential backoff for the run's attempt number (the
 * workflow starts each activity's policy where the run's schedule stands, so Temporal agrees);
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

/**
 * The failure a failed attempt ends its activity with. Its details carry the delay too: after a
 * local first attempt the workflow waits it out itself, and Temporal does not hand nextRetryDelay
 * back to workflow code.
 */
function failedAttempt(
  outcome: Exclude<AttemptOutcome, { kind: 'sent' }>,
  details: AttemptFailureDetails,
  retryDelay: { delayMs: number; overridesBackoff: boolean } | undefined,
): ApplicationFailure {
  if (outcome.kind === 'permanent') {
    return ApplicationFailure.create({ type: outcome.errorType, message: outcome.reason, nonRetryable: true, details: [details] });
  }
  return ApplicationFailure.create({
    type: outcome.errorType,
    message: outcome.reason,
    details: [details],
    // Only a Retry-After or the retry floor overrides Temporal's own backoff.
    nextRetryDelay: retryDelay?.overridesBackoff ? retryDelay.delayMs : undefined,
  });
}

/**
 * A 2xx counts as accepted only when its body has the destination's `success_body`: trackers that
 * answer 200 with an error in the body are retried like a 5xx, with the reason recorded.
 */
function checkSuccessBody(successBody: string, response: WebhookResponse): AttemptOutcome {
  let matches: boolean;
  try {
    matches = successBodyMatcher(successBody)(Buffer.from(response.bodyStart).toString('utf8'));
  } catch {
    // Checked at save; a pattern refused now (a row changed behind the API's back) cannot be met.
    matches = false;
  }
  if (matches) return { kind: 'sent' };
  return { kind: 'retryable', errorType: 'UnexpectedResponseBody', reason: `receiver answered HTTP ${response.statusCode} without the expected success_body` };
}

/** What an attempt's outcome tells the destination's breaker and failing time. */
function healthOutcome(outcome: AttemptOutcome): HealthOutcome {
  if (outcome.kind === 'sent') return { kind: 'success' };
  const reason = `${outcome.errorType}: ${outcome.reason}`;
  return outcome.kind === 'retryable' ? { kind: 'retryable_failure', reason } : { kind: 'permanent_failure', reason };
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
 * What a stored excerpt must not show: the destination's header values, the signature header (whole,
 * each signature, each bare base64 digest) and, should a receiver ever learn them, the signing secrets.
 */
function secretsToMask(destination: DeliveryTarget['destination'], signatureHeader: string): string[] {
  const signatures = signatureHeader.split(' ').filter((signature) => signature !== '');
  const signingSecrets = [destination.signingSecret, destination.previousSigningSecret].filter((secret): secret is string => secret !== null);
  return [
    ...Object.values(destination.headers),
    ...Object.values(destination.templateSecrets),
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
