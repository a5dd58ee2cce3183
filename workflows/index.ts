export { deliveryWorkflow } from './delivery.workflow.js';
export { operationalWebhookWorkflow } from './operational-webhook.workflow.js';
export type { DeliveryWorkflowInput, DeliveryWorkflowResult } from '../contract/delivery-activities.js';
export { recoveryWorkflow } from './recovery.workflow.js';
export { retentionWorkflow } from './retention.workflow.js';
