import { OPERATIONAL_EVENT_TYPES, type OperationalEventType, type OperationalNotification } from '../../contract/operational-notifier.js';

/**
 * The body of an operational webhook, Standard Webhooks' recommended shape: what happened, when
 * (ISO-8601, the moment it happened, not the moment it was sent), and its facts.
 */
export interface OperationalPayload {
  type: OperationalEventType;
  timestamp: string;
  data: Record<string, string | number | null>;
}

/** Fixed once, when the notification is raised: every attempt sends this. */
export function buildOperationalPayload({ type, occurredAtMs, data }: Pick<OperationalNotification, 'type' | 'occurredAtMs' | 'data'>): OperationalPayload {
  // The column's CHECK would refuse it too, but only after a round trip and with a less telling message.
  if (!OPERATIONAL_EVENT_TYPES.includes(type)) throw new RangeError(`unknown operational notification type "${String(type)}"`);
  if (!Number.isFinite(occurredAtMs)) throw new RangeError('occurredAtMs must be a finite epoch time in milliseconds');
  return { type, timestamp: new Date(occurredAtMs).toISOString(), data: { ...data } };
}

/**
 * The bytes sent. The payload is stored as jsonb, which keeps its own key order; the top-level
 * keys are put back in the documented order so receivers read `type` first.
 */
export function serializeOperationalPayload({ type, timestamp, data }: OperationalPayload): string {
  return JSON.stringify({ type, timestamp, data });
}
