import type { DeliveryPlan } from './delivery-plan.js';

/** Workflow input: identifiers and the run's plan only; secrets and the body stay in the database. */
export interface DeliveryWorkflowInput extends DeliveryPlan {
  eventId: string;
  destinationId: string;
}

/**
 * Signal that wakes a delivery held while its account was disabled, so it resumes at once rather
 * than at its next check. Sent to an account's running deliveries when the account is enabled.
 */
export const RESUME_DELIVERY_SIGNAL = 'resumeDelivery';

export interface DeliveryWorkflowResult {
  status: 'sent';
}

/** One attempt: which delivery, and the plan of the run it belongs to. */
export interface SendWebhookInput extends DeliveryPlan {
  eventId: string;
  /**
   * Attempts this run made before the current activity was scheduled (the activity is scheduled
   * anew after a hold while the account was disabled): attempt numbers stay unique within the run.
   */
  attemptsBefore?: number;
}

export interface FinishDeliveryInput {
  eventId: string;
  status: 'failed' | 'cancelled';
  reason: string;
}

/** The activities the delivery workflow schedules; the worker registers an implementation of each. */
export interface DeliveryActivities {
  sendWebhook(input: SendWebhookInput): Promise<void>;
  finishDelivery(input: FinishDeliveryInput): Promise<void>;
}
