import type { DeliveryPlan } from './delivery-plan.js';

/** Workflow input: identifiers and the run's plan only; secrets and the body stay in the database. */
export interface DeliveryWorkflowInput extends DeliveryPlan {
  eventId: string;
  destinationId: string;
}

export interface DeliveryWorkflowResult {
  status: 'sent';
}

/** One attempt: which delivery, and the plan of the run it belongs to. */
export interface SendWebhookInput extends DeliveryPlan {
  eventId: string;
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
