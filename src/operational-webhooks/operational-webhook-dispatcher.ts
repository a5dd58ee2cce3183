import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { operationalWebhookWorkflowId, type OperationalWebhookWorkflowInput } from '../../contract/operational-webhook-activities.js';
import { ACCOUNT_ID } from '../../contract/search-attributes.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TEMPORAL_CALL_DEADLINE_MS } from '../deliveries/delivery-dispatcher.js';
import { effectiveRetryPolicy } from '../destinations/retry-policy.js';
import { OperationalNotificationRepository, type OperationalNotificationToDispatch } from './operational-notification.repository.js';

/**
 * Starts the workflow of a stored notification, then marks it dispatched. The start is idempotent
 * (one workflow id per notification, a duplicate refused), so a start repeated by notify or by the
 * sweep after a crash or an outage never sends twice.
 */
@Injectable()
export class OperationalWebhookDispatcher {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    private readonly notifications: OperationalNotificationRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async dispatch(notification: OperationalNotificationToDispatch): Promise<void> {
    const { timeoutMs } = this.config.delivery;
    // The configured delivery defaults (RETRY_*, DELIVERY_TIMEOUT_MS), exactly as a destination
    // without overrides runs them: 3 days of retries by default. Fixed for the run.
    const input: OperationalWebhookWorkflowInput = {
      notificationId: notification.id,
      attemptTimeoutMs: timeoutMs,
      retry: effectiveRetryPolicy({}, this.config.delivery),
    };
    try {
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
        this.temporal.workflow.start('operationalWebhookWorkflow', {
          workflowId: operationalWebhookWorkflowId(notification.id),
          taskQueue: this.config.temporal.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [{ key: ACCOUNT_ID, value: notification.accountId }],
          memo: { account_id: notification.accountId, notification_type: notification.type },
        }),
      );
    } catch (error) {
      // Started (or finished) earlier: exactly what a repeated dispatch wants.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    await this.notifications.markDispatched(notification.id);
  }
}
