import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { DeliveryActivities, DeliveryWorkflowInput, DeliveryWorkflowResult } from '../contract/delivery-activities.js';
import { PERMANENT_ERROR_TYPES } from '../contract/delivery-error-types.js';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS } from '../contract/delivery-plan.js';
import { DELIVERY_STATUS } from '../contract/search-attributes.js';

/** The activity heartbeats every second while an attempt is in flight. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

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

  try {
    await sendWebhook({ eventId: input.eventId, attemptTimeoutMs: input.attemptTimeoutMs, retry });
    upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'sent' }]);
    return { status: 'sent' };
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

function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    const cause = error.cause;
    if (cause.name === 'TimeoutFailure') return 'retry window ended before the receiver accepted the webhook';
    return cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
