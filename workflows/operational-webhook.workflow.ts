import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { ATTEMPT_BOOKKEEPING_MARGIN_MS } from '../contract/delivery-plan.js';
import {
  OPERATIONAL_WEBHOOK_PERMANENT_ERROR_TYPES,
  type OperationalWebhookActivities,
  type OperationalWebhookWorkflowInput,
} from '../contract/operational-webhook-activities.js';

/**
 * One operational notification = one workflow `operational-<notification id>`, on the delivery task
 * queue but never through the delivery path: Temporal's retry policy does the backoff (408, 429,
 * 5xx, timeouts and network errors; Retry-After through the activity's nextRetryDelay) within the
 * run's retry window, and the workflow alone writes `failed` when that ends it.
 */
export async function operationalWebhookWorkflow(input: OperationalWebhookWorkflowInput): Promise<void> {
  const { retry } = input;
  const { sendOperationalWebhook } = proxyActivities<OperationalWebhookActivities>({
    startToCloseTimeout: input.attemptTimeoutMs + ATTEMPT_BOOKKEEPING_MARGIN_MS,
    scheduleToCloseTimeout: retry.maxAgeMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maxIntervalMs,
      // The SDK spells "unlimited" as no limit at all rather than 0.
      maximumAttempts: retry.maxAttempts > 0 ? retry.maxAttempts : undefined,
      nonRetryableErrorTypes: [...OPERATIONAL_WEBHOOK_PERMANENT_ERROR_TYPES],
    },
  });
  const { failOperationalWebhook } = proxyLocalActivities<OperationalWebhookActivities>({
    startToCloseTimeout: '30 seconds',
    // The final status must reach the database however long it is down.
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

  try {
    await sendOperationalWebhook({ notificationId: input.notificationId, attemptTimeoutMs: input.attemptTimeoutMs, retry });
  } catch (error) {
    const reason = isCancellation(error) ? 'cancelled' : failureReason(error);
    await CancellationScope.nonCancellable(() => failOperationalWebhook({ notificationId: input.notificationId, reason }));
    if (isCancellation(error)) throw error;
    // Failing the workflow shows an undelivered notification as Failed in the Temporal UI.
    throw ApplicationFailure.create({ type: 'OperationalWebhookFailed', message: reason, nonRetryable: true, cause: error as Error });
  }
}

function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    if (error.cause.name === 'TimeoutFailure') return 'retry window ended before the receiver accepted the notification';
    return error.cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
