export { deliveryWorkflow } from './delivery.workflow.js';
export type { DeliveryWorkflowInput, DeliveryWorkflowResult } from './delivery.workflow.js';
