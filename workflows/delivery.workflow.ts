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
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  RESUME_DELIVERY_SIGNAL,
  type DeliveryActivities,
  type DeliveryHold,
  type DeliveryWorkflowInput,
  type DeliveryWorkflowResult,
} from '../contract/delivery-activities.js';
import { ACCOUNT_DISABLED_ERROR_TYPE, DESTINATION_DISABLED_ERROR_TYPE, PERMANENT_ERROR_TYPES } from '../contract/delivery-error-types.js';
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
 * One delivery = one workflow `delivery-<event_id>`. Temporal's retry policy does the backoff:
 * a first-try success costs one activity and no bookkeeping steps in the history. The run's plan
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
  try {
    for (let signalledHolds = 0; ; ) {
      const attemptsLeft = retry.maxAttempts > 0 ? retry.maxAttempts - spent.attempts : undefined;
      const windowLeftMs = retry.maxAgeMs - spent.windowMs;
      if ((attemptsLeft !== undefined && attemptsLeft <= 0) || windowLeftMs <= 0) {
        throw ApplicationFailure.create({ type: 'RetriesExhausted', message: 'retry window ended before the receiver accepted the webhook', nonRetryable: true });
      }
      const { sendWebhook } = proxyActivities<DeliveryActivities>({
        startToCloseTimeout: input.attemptTimeoutMs + ATTEMPT_BOOKKEEPING_MARGIN_MS,
        scheduleToCloseTimeout: windowLeftMs,
        // A worker that dies mid-attempt is noticed after this, not after the whole attempt timeout.
        heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
        // On cancel, wait for an attempt in flight to abort and record itself before the workflow records `cancelled`.
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        retry: {
          initialInterval: retry.initialIntervalMs,
          backoffCoefficient: retry.backoffCoefficient,
          maximumInterval: retry.maxIntervalMs,
          // The SDK spells "unlimited" as no limit at all rather than 0.
          maximumAttempts: attemptsLeft,
          nonRetryableErrorTypes: [...PERMANENT_ERROR_TYPES],
        },
      });
      // Reset before the attempt: a wake sent while it runs (a slot freed meanwhile) is not lost.
      resumeRequested = false;
      const scheduledAtMs = Date.now();
      let hold: DeliveryHold;
      try {
        const result = await sendWebhook({ eventId: input.eventId, attemptTimeoutMs: input.attemptTimeoutMs, retry, attemptsBefore: spent.attempts, reservedSlotAtMs });
        // Sent: ExecutionStatus Completed with no DeliveryStatus says it. An upsert here would cost
        // every delivery one more history event and one more billed action (3 instead of 2).
        if (!result?.held) return { status: 'sent' };
        hold = result.held;
      } catch (error) {
        const held = legacyAccountHold(error);
        if (!held) throw error;
        hold = held;
      }
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

/** The hold of an activity from before holds were results: it failed with AccountDisabled, its detail the attempts made. */
function legacyAccountHold(error: unknown): DeliveryHold | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure) || error.cause.type !== ACCOUNT_DISABLED_ERROR_TYPE) return undefined;
  const [made] = error.cause.details ?? [];
  return { reason: 'account_disabled', waitMs: FIRST_HOLD_MS, attemptsMade: typeof made === 'number' && Number.isInteger(made) && made >= 0 ? made : 0 };
}

function isDestinationDisabled(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === DESTINATION_DISABLED_ERROR_TYPE;
}

function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    const cause = error.cause;
    if (cause.name === 'TimeoutFailure') return 'retry window ended before the receiver accepted the webhook';
    return cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
