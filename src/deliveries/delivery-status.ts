/**
 * pending → retrying → sent | failed | cancelled.
 * `failed` and `cancelled` can go back to `pending` through an explicit retry.
 */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'sent', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const FINISHED_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'cancelled'];
export const RETRYABLE_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['failed', 'cancelled'];
