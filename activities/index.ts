export { createDeliveryActivities, type DeliveryActivityDependencies } from './delivery.activities.js';
export { WebhookHttpClient } from './webhook-http-client.js';
