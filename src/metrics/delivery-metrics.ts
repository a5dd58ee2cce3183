import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { DeliveryMetrics } from '../../contract/delivery-metrics.js';

/**
 * The service's Prometheus metrics, one registry per process (prom-client metrics are
 * process-wide by nature: several applications in one test process share them).
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'xtracker_' });

export const deliveriesFinished = new Counter({
  name: 'xtracker_webhook_deliveries_total',
  help: 'Deliveries that reached a final status, by outcome (sent, failed, cancelled)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const attemptsMade = new Counter({
  name: 'xtracker_webhook_attempts_total',
  help: 'HTTP attempts, by status class (2xx, 3xx, 4xx, 5xx, timeout, network, refused, cancelled)',
  labelNames: ['status_class'] as const,
  registers: [metricsRegistry],
});

export const attemptDuration = new Histogram({
  name: 'xtracker_webhook_attempt_duration_seconds',
  help: 'Duration of one HTTP attempt, from send to the end of the response excerpt',
  labelNames: ['status_class'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const ingestDuration = new Histogram({
  name: 'xtracker_ingest_request_duration_seconds',
  help: 'Duration of POST /v1/events, by HTTP status',
  labelNames: ['status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/** The delivery activities' metrics (contract/delivery-metrics.ts) on this registry. */
export const prometheusDeliveryMetrics: DeliveryMetrics = {
  attempt(statusClass, durationMs) {
    attemptsMade.inc({ status_class: statusClass });
    attemptDuration.observe({ status_class: statusClass }, durationMs / 1000);
  },
  finished(outcome) {
    deliveriesFinished.inc({ outcome });
  },
};
