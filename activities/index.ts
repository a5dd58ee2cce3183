export { createDeliveryActivities } from './delivery.activities.js';
export type { DeliveryActivities, SendWebhookInput, FinishDeliveryInput, BackoffSchedule } from './delivery.activities.js';
