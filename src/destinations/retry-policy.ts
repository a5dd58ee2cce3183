import type { RetryPolicy } from '../../contract/delivery-plan.js';
import type { DeliveryDefaults } from '../config/app-config.js';
import type { Destination, RetryPolicyOverrides } from './destination.entity.js';

/**
 * The most attempts one workflow run makes. Without a ceiling, `max_attempts: 0` with short
 * intervals let one destination ask for millions of attempts within `max_age_ms` (100 ms apart
 * for 30 days is ~2.6 M); a failed delivery can still be retried by hand, which starts a new run.
 */
export const MAX_ATTEMPTS_PER_RUN = 100;

/** The destination's overrides over the global defaults, as the delivery workflow will run them. */
export function effectiveRetryPolicy(overrides: RetryPolicyOverrides, defaults: DeliveryDefaults): RetryPolicy {
  return {
    initialIntervalMs: overrides.initial_interval_ms ?? defaults.initialIntervalMs,
    backoffCoefficient: overrides.backoff_coefficient ?? defaults.backoffCoefficient,
    maxIntervalMs: overrides.max_interval_ms ?? Math.max(defaults.maxIntervalMs, overrides.initial_interval_ms ?? 0),
    maxAttempts: attemptsPerRun(overrides.max_attempts ?? defaults.maxAttempts),
    maxAgeMs: overrides.max_age_ms ?? defaults.maxAgeMs,
  };
}

/**
 * 0 ("as many as fit in max_age_ms") becomes the ceiling, and so does anything above it: rows
 * saved before the ceiling existed may hold up to 1000.
 */
function attemptsPerRun(requested: number): number {
  return requested === 0 ? MAX_ATTEMPTS_PER_RUN : Math.min(requested, MAX_ATTEMPTS_PER_RUN);
}

export function effectiveTimeoutMs(destination: Pick<Destination, 'timeoutMs'>, defaults: DeliveryDefaults): number {
  return destination.timeoutMs ?? defaults.timeoutMs;
}
