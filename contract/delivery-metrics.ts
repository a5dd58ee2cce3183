import type { FinishedDeliveryStatus } from './delivery-status.js';

/** What the delivery activities report; an interface so they stay free of the metrics registry. */
export interface DeliveryMetrics {
  attempt(statusClass: string, durationMs: number): void;
  /** Counted by whoever wrote the final status, once per delivery run that reached it. */
  finished(outcome: FinishedDeliveryStatus): void;
}
