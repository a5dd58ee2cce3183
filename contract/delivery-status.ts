/**
 * A delivery's status and the only changes it may make. Ingest inserts `pending`; every later
 * change is one of DELIVERY_STATUS_TRANSITIONS, each made by one writer, and a write whose
 * current status is not an allowed predecessor changes nothing (the store's SQL checks it).
 */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'sent', 'failed', 'cancelled', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type FinishedDeliveryStatus = Extract<DeliveryStatus, 'sent' | 'failed' | 'cancelled' | 'skipped'>;

interface StatusTransition {
  /** The statuses a delivery may be in for this change to apply. */
  from: readonly DeliveryStatus[];
  /** Who makes the change; nobody else writes this status. */
  writer: string;
}

/**
 * Keyed by the status entered. A finished delivery (`sent`, `failed`, `cancelled`, `skipped`) stays so: a late
 * record from an attempt Temporal already gave up on cannot reopen it; only an explicit retry moves
 * `failed`, `cancelled` or `skipped` back to `pending` for a new run.
 */
export const DELIVERY_STATUS_TRANSITIONS: Readonly<Record<DeliveryStatus, StatusTransition>> = {
  pending: { from: ['failed', 'cancelled', 'skipped'], writer: 'the retry claim of POST /v1/accounts/:account_id/deliveries/:event_id/retry, which bulk recoveries reuse' },
  retrying: { from: ['pending', 'retrying'], writer: 'the sendWebhook activity, recording a retryable attempt' },
  sent: { from: ['pending', 'retrying'], writer: 'the sendWebhook activity, recording an accepted attempt' },
  failed: { from: ['pending', 'retrying'], writer: 'the delivery workflow (finishDelivery): a permanent failure, attempts or retry window exhausted' },
  cancelled: { from: ['pending', 'retrying'], writer: 'the delivery workflow (finishDelivery), after a cancellation' },
  // Ingest also inserts `skipped` directly for a destination that is disabled when the event arrives.
  skipped: { from: ['pending', 'retrying'], writer: 'the delivery workflow (finishDelivery): its destination was disabled before it was sent' },
};

/** The statuses a delivery may enter `to` from. */
export function allowedPredecessors(to: DeliveryStatus): readonly DeliveryStatus[] {
  return DELIVERY_STATUS_TRANSITIONS[to].from;
}

export function isAllowedTransition(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return allowedPredecessors(to).includes(from);
}

/** A run is working on the delivery: its attempts may still change it. */
export const OPEN_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'retrying'];
export const FINISHED_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'cancelled', 'skipped'];
/** What an explicit retry may start a new run from. */
export const RETRYABLE_DELIVERY_STATUSES: readonly DeliveryStatus[] = allowedPredecessors('pending');
/**
 * What a forced resend (`POST …/retry` with `force: true`) may start a new run from: a `sent`
 * delivery too. Kept out of the transition table on purpose: nothing but that explicit operator
 * request ever moves an acknowledged delivery back to `pending`.
 */
export const FORCE_RESEND_STATUSES: readonly DeliveryStatus[] = [...RETRYABLE_DELIVERY_STATUSES, 'sent'];
