/**
 * Operational webhooks: what the service tells an account about its own destinations and
 * deliveries, sent to the account's `operational_webhook_url` (Standard Webhooks signed, durable,
 * retried). Raised by the delivery activities; they never pass through the delivery path, so they
 * never count towards the health of the destination they report on.
 */
export const OPERATIONAL_EVENT_TYPES = ['destination.failing', 'destination.recovered', 'destination.disabled', 'delivery.exhausted'] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export interface OperationalNotification {
  accountId: string;
  type: OperationalEventType;
  /**
   * Unique per account and occurrence (e.g. `destination.failing:<destination id>:<opened at ms>`):
   * raising the same key twice (an activity retried) notifies once.
   */
  key: string;
  occurredAtMs: number;
  /** The notification's `data`: ids, reasons and times only, never a secret, header value or body. */
  data: Record<string, string | number | null>;
}

/**
 * Implemented by the worker (src/operational-webhooks/operational-notifications.ts). `notify`
 * resolves once the notification is durably stored, or at once when the account has no
 * operational_webhook_url (nothing is kept then); it rejects only when it could not be stored.
 * Sending happens later, in the notification's own workflow, so it never waits on the receiver.
 */
export interface OperationalNotifier {
  notify(notification: OperationalNotification): Promise<void>;
}
