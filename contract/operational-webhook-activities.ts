import type { DeliveryPlan } from './delivery-plan.js';

/**
 * Workflow input of one operational notification, `operational-<notification id>`: the id and the
 * run's plan only. The body, the account's URL and its secrets stay in the database; the activity
 * loads them at send time, so a rotated secret or a removed URL applies to the next attempt.
 */
export interface OperationalWebhookWorkflowInput extends DeliveryPlan {
  notificationId: string;
}

/** One attempt: the notification and the plan of the run, so HTTP and Temporal agree on its timeout. */
export type SendOperationalWebhookInput = OperationalWebhookWorkflowInput;

export interface FailOperationalWebhookInput {
  notificationId: string;
  reason: string;
}

/** The activities the operational webhook workflow schedules; the worker registers both. */
export interface OperationalWebhookActivities {
  sendOperationalWebhook(input: SendOperationalWebhookInput): Promise<void>;
  failOperationalWebhook(input: FailOperationalWebhookInput): Promise<void>;
}

/** The workflow id of a notification: one per notification, which makes every start idempotent. */
export function operationalWebhookWorkflowId(notificationId: string): string {
  return `operational-${notificationId}`;
}

/** The notification's row is gone: its account was deleted. */
export const OPERATIONAL_NOTIFICATION_NOT_FOUND_ERROR_TYPE = 'OperationalNotificationNotFound';
/** The account removed its operational_webhook_url after the notification was raised. */
export const OPERATIONAL_WEBHOOK_REMOVED_ERROR_TYPE = 'OperationalWebhookRemoved';

/**
 * Never retried by the operational webhook workflow: the permanent outcomes of an HTTP attempt
 * (contract/delivery-error-types.ts) and the two reasons there is nothing left to send to.
 */
export const OPERATIONAL_WEBHOOK_PERMANENT_ERROR_TYPES: readonly string[] = [
  'PermanentHttpStatus',
  'DestinationNotPublic',
  'InvalidRequest',
  OPERATIONAL_NOTIFICATION_NOT_FOUND_ERROR_TYPE,
  OPERATIONAL_WEBHOOK_REMOVED_ERROR_TYPE,
];
