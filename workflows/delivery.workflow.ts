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
  type DeliveryWorkflowInput,
  type DeliveryWorkflowResult,
} from '../contract/delivery-activities.js';
import { ACCOUNT_DISABLED_ERROR_TYPE, PERMANENT_ERROR_TYPES } from '../contract/delivery-error-types.js';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS } from '../contract/delivery-plan.js';
import { DELIVERY_STATUS } from '../contract/search-attributes.js';

/** The activity heartbeats every second while an attempt is in flight. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * How long a delivery of a disabled account waits before it looks again: doubling from the first
 * to the longest, so a long-disabled account costs a few history events an hour, not a minute. The
 * resume signal sent when the account is enabled ends any wait at once.
 */
const FIRST_ACCOUNT_HOLD_MS = 30_000;
const LONGEST_ACCOUNT_HOLD_MS = 600_000;

const resumeDelivery = defineSignal(RESUME_DELIVERY_SIGNAL);

/**
 * One delivery = one workflow `delivery-<event_id>`. Temporal's retry policy does the backoff:
 * a first-try success costs one activity and no bookkeeping steps in the history. The run's plan
 * (attempt timeout and retry numbers) sets Temporal's timeouts and goes to every attempt unchanged,
 * so the HTTP request and Temporal never disagree on how long an attempt may take.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryWorkflowResult> {
  const { retry } = input;
  const { sendWebhook } = proxyActivities<DeliveryActivities>({
    startToCloseTimeout: input.attemptTimeoutMs + ATTEMPT_BOOKKEEPING_MARGIN_MS,
    scheduleToCloseTimeout: retry.maxAgeMs,
    // A worker that dies mid-attempt is noticed after this, not after the whole attempt timeout.
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    // On cancel, wait for an attempt in flight to abort and record itself before the workflow records `cancelled`.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maxIntervalMs,
      // The SDK spells "unlimited" as no limit at all rather than 0.
      maximumAttempts: retry.maxAttempts > 0 ? retry.maxAttempts : undefined,
      nonRetryableErrorTypes: [...PERMANENT_ERROR_TYPES],
    },
  });
  const { finishDelivery } = proxyLocalActivities<DeliveryActivities>({
    startToCloseTimeout: '30 seconds',
    // The final status must reach the database however long it is down.
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

  let resumeRequested = false;
  setHandler(resumeDelivery, () => {
    resumeRequested = true;
  });

  let attemptsBefore = 0;
  try {
    for (let hold = 0; ; hold++) {
      try {
        await sendWebhook({ eventId: input.eventId, attemptTimeoutMs: input.attemptTimeoutMs, retry, attemptsBefore });
        upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'sent' }]);
        return { status: 'sent' };
      } catch (error) {
        if (!isAccountDisabled(error)) throw error;
        attemptsBefore += attemptsMadeBeforeHold(error);
      }
      // Held, not failed: nothing was sent, and the retry window starts afresh once the account is enabled.
      resumeRequested = false;
      await condition(() => resumeRequested, Math.min(FIRST_ACCOUNT_HOLD_MS * 2 ** hold, LONGEST_ACCOUNT_HOLD_MS));
      if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof deliveryWorkflow>(input);
    }
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        finishDelivery({ eventId: input.eventId, status: 'cancelled', reason: 'cancelled through the API' }),
      );
      upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'cancelled' }]);
      throw error;
    }
    const reason = failureReason(error);
    await finishDelivery({ eventId: input.eventId, status: 'failed', reason });
    upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'failed' }]);
    // Failing the workflow makes failed deliveries visible as Failed in the Temporal UI and lets an explicit retry start a new run.
    throw ApplicationFailure.create({ type: 'DeliveryFailed', message: reason, nonRetryable: true, cause: error as Error });
  }
}

function isAccountDisabled(error: unknown): error is ActivityFailure & { cause: ApplicationFailure } {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === ACCOUNT_DISABLED_ERROR_TYPE;
}

/** The attempts the held activity made (and recorded) before it found the account disabled. */
function attemptsMadeBeforeHold(error: ActivityFailure & { cause: ApplicationFailure }): number {
  const [made] = error.cause.details ?? [];
  return typeof made === 'number' && Number.isInteger(made) && made >= 0 ? made : 0;
}

function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    const cause = error.cause;
    if (cause.name === 'TimeoutFailure') return 'retry window ended before the receiver accepted the webhook';
    return cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
