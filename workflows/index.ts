export { deliveryWorkflow } from './delivery.workflow.js';
export { operationalWebhookWorkflow } from './operational-webhook.workflow.js';
export type { DeliveryWorkflowInput, DeliveryWorkflowResult } from '../contract/delivery-activities.js';
