import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineSignal,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  NEXT_ATTEMPT_AT_MEMO,
  RESUME_DELIVERY_SIGNAL,
  type AttemptFailureDetails,
  type DeliveryActivities,
  type DeliveryHold,
  type DeliveryWorkflowInput,
  type DeliveryWorkflowResult,
} from '../contract/delivery-activities.js';
import { ACCOUNT_DISABLED_ERROR_TYPE, DESTINATION_DISABLED_ERROR_TYPE, PERMANENT_ERROR_TYPES } from '../contract/delivery-error-types.js';
import type { RetryPolicy } from '../contract/delivery-plan.js';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS } from '../contract/delivery-plan.js';
import { DELIVERY_STATUS } from '../contract/search-attributes.js';

/** The activity heartbeats every second while an attempt is in flight. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * How long a delivery held without a known end (account disabled, destination paused, queued
 * behind others for a slot or a breaker) waits before it looks again on its own: doubling from the
 * first to the longest, so a long hold costs a few history events an hour, not a minute. The resume
 * signal (account enabled, destination resumed, a slot freed, the breaker closed) ends it at once.
 */
const FIRST_HOLD_MS = 30_000;
const LONGEST_HOLD_MS = 600_000;
/** An exact wait (a rate slot, the end of a cool-down) is honoured within these bounds. */
const SHORTEST_TRAFFIC_WAIT_MS = 50;

const resumeDelivery = defineSignal(RESUME_DELIVERY_SIGNAL);

/**
 * One delivery = one workflow `delivery-<event_id>`. Its first attempt is a local activity (see
 * attemptLocally): a first-try success costs one workflow task and no bookkeeping steps in the
 * history. Retries are regular activities, and Temporal's retry policy does their backoff. The run's plan
 * (attempt timeout and retry numbers) sets Temporal's timeouts and goes to every attempt unchanged,
 * so the HTTP request and Temporal never disagree on how long an attempt may take.
 *
 * A delivery the activity finds it must hold (its result says `held`: account disabled, destination paused,
 * breaker open, rate or concurrency limit) waits here, on a timer that a resume signal may end
 * early, and is scheduled again. Waiting spends neither attempts nor retry window: the next
 * activity gets what the run has left of both (`spent`), so `max_attempts` counts requests sent
 * and `max_age_ms` the time spent attempting and backing off.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryWorkflowResult> {
  const { retry } = input;
  const { finishDelivery } = proxyLocalActivities<DeliveryActivities>({
    startToCloseTimeout: '30 seconds',
    // The final status must reach the database however long it is down.
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

  let resumeRequested = false;
  setHandler(resumeDelivery, () => {
    resumeRequested = true;
  });

  const spent = { attempts: input.spent?.attempts ?? 0, windowMs: input.spent?.windowMs ?? 0 };
  let reservedSlotAtMs = input.spent?.reservedSlotAtMs;
  // Only a run's very first attempt: a continued run has been held or has attempted already.
  let firstAttemptLocal = input.firstAttemptLocal === true && input.spent === undefined;
  try {
    for (let signalledHolds = 0; ; ) {
      const attemptsLeft = retry.maxAttempts > 0 ? retry.maxAttempts - spent.attempts : undefined;
      const windowLeftMs = retry.maxAgeMs - spent.windowMs;
      if ((attemptsLeft !== undefined && attemptsLeft <= 0) || windowLeftMs <= 0) {
        throw ApplicationFailure.create({ type: 'RetriesExhausted', message: 'retry window ended before the receiver accepted the webhook', nonRetryable: true });
      }
      const attemptInput = { eventId: input.eventId, attemptTimeoutMs: input.attemptTimeoutMs, retry, attemptsBefore: spent.attempts, reservedSlotAtMs };
      // Reset before the attempt: a wake sent while it runs (a slot freed meanwhile) is not lost.
      resumeRequested = false;
      const scheduledAtMs = Date.now();
      const attempt = firstAttemptLocal ? await attemptLocally(input, attemptInput, windowLeftMs) : await attemptAsActivity(input, attemptInput, windowLeftMs);
      firstAttemptLocal = false;
      if (attempt.outcome === 'sent') return { status: 'sent' };
      if (attempt.outcome === 'failed') {
        spent.attempts += 1;
        reservedSlotAtMs = undefined;
        const attemptsAfter = retry.maxAttempts > 0 ? retry.maxAttempts - spent.attempts : undefined;
        // As Temporal's retry policy would: no attempt left, or none that could start within the window.
        if ((attemptsAfter !== undefined && attemptsAfter <= 0) || attempt.nextAttemptAtMs - scheduledAtMs >= windowLeftMs) throw attempt.error;
        // The backoff a regular activity spends in Temporal's retry timer, here a workflow timer; the
        // memo tells the API when it ends (no pending activity does meanwhile).
        upsertMemo({ [NEXT_ATTEMPT_AT_MEMO]: attempt.nextAttemptAtMs });
        await sleep(attempt.retryDelayMs);
        spent.windowMs += Date.now() - scheduledAtMs;
        continue;
      }
      const { hold } = attempt;
      spent.attempts += hold.attemptsMade;
      // Attempting and Temporal's backoff between attempts count; the hold that follows does not.
      spent.windowMs += Date.now() - scheduledAtMs;
      reservedSlotAtMs = hold.reservedSlotAtMs;
      // An exact hold knows when to look again; any other waits for a signal, backing off on its own.
      // The backoff is spread (±50 %, from the workflow's deterministic random) so that deliveries
      // queued together do not all look again in the same second.
      const waitMs = hold.exact
        ? Math.max(SHORTEST_TRAFFIC_WAIT_MS, Math.min(hold.waitMs, LONGEST_HOLD_MS))
        : Math.max(Math.min(hold.waitMs, LONGEST_HOLD_MS), Math.min(FIRST_HOLD_MS * 2 ** signalledHolds++, LONGEST_HOLD_MS) * (0.5 + Math.random()));
      if (hold.exact) signalledHolds = 0;
      await condition(() => resumeRequested, waitMs);
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof deliveryWorkflow>({ ...input, spent: { ...spent, reservedSlotAtMs } });
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        finishDelivery({ eventId: input.eventId, status: 'cancelled', reason: 'cancelled through the API' }),
      );
      upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'cancelled' }]);
      throw error;
    }
    if (isDestinationDisabled(error)) {
      // Not a failure of the delivery: it is kept, listable and can be sent again once the destination is enabled.
      await finishDelivery({ eventId: input.eventId, status: 'skipped', reason: failureReason(error) });
      upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'skipped' }]);
      return { status: 'skipped' };
    }
    const reason = failureReason(error);
    await finishDelivery({ eventId: input.eventId, status: 'failed', reason });
    upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'failed' }]);
    // Failing the workflow makes failed deliveries visible as Failed in the Temporal UI and lets an explicit retry start a new run.
    throw ApplicationFailure.create({ type: 'DeliveryFailed', message: reason, nonRetryable: true, cause: error as Error });
  }
}

/** What one scheduling of the send activity came to. A regular activity's retryable failures stay with Temporal's retry policy. */
type AttemptResult =
  | { outcome: 'sent' }
  | { outcome: 'held'; hold: DeliveryHold }
  /** The local first attempt failed and may be retried after `retryDelayMs`. */
  | { outcome: 'failed'; error: Error; retryDelayMs: number; nextAttemptAtMs: number };

type AttemptInput = Parameters<DeliveryActivities['sendWebhook']>[0];

/**
 * The run's first attempt as a local activity, in the workflow task that started the run: a
 * first-try success is one workflow task and a marker (6 history events, no activity task round
 * trip) instead of a scheduled activity and a second workflow task (11). One try only: its
 * retries are regular activities, which the Temporal UI lists with their attempt, last failure and
 * next attempt time, and which a worker's death hands to another worker after the heartbeat timeout.
 * Should this worker die mid-attempt, the workflow task times out and the attempt is made again
 * elsewhere, as a regular activity's would be; the receiver deduplicates by event_id either way.
 */
async function attemptLocally(input: DeliveryWorkflowInput, attempt: AttemptInput, windowLeftMs: number): Promise<AttemptResult> {
  const { sendWebhook } = proxyLocalActivities<DeliveryActivities>({
    startToCloseTimeout: input.attemptTimeoutMs + ATTEMPT_BOOKKEEPING_MARGIN_MS,
    scheduleToCloseTimeout: windowLeftMs,
    // On cancel, the attempt in flight aborts and records itself before the workflow records `cancelled`.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  try {
    const result = await sendWebhook(attempt);
    return result?.held ? { outcome: 'held', hold: result.held } : { outcome: 'sent' };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = attemptFailure(error);
    if (!(cause instanceof ApplicationFailure || cause instanceof TimeoutFailure)) throw error;
    if (cause instanceof ApplicationFailure && (cause.nonRetryable || (PERMANENT_ERROR_TYPES as readonly string[]).includes(cause.type ?? ''))) throw error;
    // The attempt's own choice (Retry-After, the retry floor, the backoff) when it got that far; else the policy's first interval.
    const [details] = (cause instanceof ApplicationFailure ? cause.details : undefined) ?? [];
    const { retryDelayMs: chosen, endedAtMs } = (details as AttemptFailureDetails | undefined) ?? {};
    const retryDelayMs = typeof chosen === 'number' && chosen > 0 ? chosen : input.retry.initialIntervalMs;
    // The timer starts when this workflow task completes, just after the attempt ended.
    const nextAttemptAtMs = (typeof endedAtMs === 'number' ? endedAtMs : Date.now()) + retryDelayMs;
    return { outcome: 'failed', error: error as Error, retryDelayMs, nextAttemptAtMs };
  }
}

/** An attempt as a regular activity, retried by Temporal's policy until it is sent, held or ends the run (thrown). */
async function attemptAsActivity(input: DeliveryWorkflowInput, attempt: AttemptInput, windowLeftMs: number): Promise<AttemptResult> {
  const { retry } = input;
  const { sendWebhook } = proxyActivities<DeliveryActivities>({
    startToCloseTimeout: input.attemptTimeoutMs + ATTEMPT_BOOKKEEPING_MARGIN_MS,
    scheduleToCloseTimeout: windowLeftMs,
    // A worker that dies mid-attempt is noticed after this, not after the whole attempt timeout.
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    // On cancel, wait for an attempt in flight to abort and record itself before the workflow records `cancelled`.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      // The run's backoff goes on where it stands: an activity scheduled after attempts already made
      // (a local first attempt, a hold) does not start the exponential schedule over.
      initialInterval: backoffAfter(retry, attempt.attemptsBefore ?? 0),
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maxIntervalMs,
      // The SDK spells "unlimited" as no limit at all rather than 0.
      maximumAttempts: retry.maxAttempts > 0 ? retry.maxAttempts - (attempt.attemptsBefore ?? 0) : undefined,
      nonRetryableErrorTypes: [...PERMANENT_ERROR_TYPES],
    },
  });
  try {
    const result = await sendWebhook(attempt);
    // Sent: ExecutionStatus Completed with no DeliveryStatus says it. An upsert here would cost
    // every delivery one more history event and one more billed action.
    return result?.held ? { outcome: 'held', hold: result.held } : { outcome: 'sent' };
  } catch (error) {
    const held = legacyAccountHold(error);
    if (!held) throw error;
    return { outcome: 'held', hold: held };
  }
}

/** The backoff after the run's attempt number `attemptsMade + 1`: the policy's interval, grown once per attempt made. */
function backoffAfter(retry: RetryPolicy, attemptsMade: number): number {
  return Math.min(retry.initialIntervalMs * retry.backoffCoefficient ** attemptsMade, retry.maxIntervalMs);
}

/** The hold of an activity from before holds were results: it failed with AccountDisabled, its detail the attempts made. */
function legacyAccountHold(error: unknown): DeliveryHold | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure) || error.cause.type !== ACCOUNT_DISABLED_ERROR_TYPE) return undefined;
  const [made] = error.cause.details ?? [];
  return { reason: 'account_disabled', waitMs: FIRST_HOLD_MS, attemptsMade: typeof made === 'number' && Number.isInteger(made) && made >= 0 ? made : 0 };
}

/**
 * What an attempt failed with: a regular activity's failure is an ActivityFailure around it, a
 * local activity's reaches the workflow as it is.
 */
function attemptFailure(error: unknown): unknown {
  return error instanceof ActivityFailure ? error.cause : error;
}

function isDestinationDisabled(error: unknown): boolean {
  const cause = attemptFailure(error);
  return cause instanceof ApplicationFailure && cause.type === DESTINATION_DISABLED_ERROR_TYPE;
}

function failureReason(error: unknown): string {
  const cause = attemptFailure(error) ?? error;
  if (cause instanceof TimeoutFailure) return 'retry window ended before the receiver accepted the webhook';
  return cause instanceof Error ? cause.message : String(cause);
}
