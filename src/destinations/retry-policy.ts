import type { DeliveryDefaults } from '../config/app-config.js';
import type { Destination, RetryPolicyOverrides } from './destination.entity.js';

export interface EffectiveRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  maxAttempts: number;
  maxAgeMs: number;
}

/** The destination's overrides over the global defaults, as the delivery workflow will run them. */
export function effectiveRetryPolicy(overrides: RetryPolicyOverrides, defaults: DeliveryDefaults): EffectiveRetryPolicy {
  return {
    initialIntervalMs: overrides.initial_interval_ms ?? defaults.initialIntervalMs,
    backoffCoefficient: overrides.backoff_coefficient ?? defaults.backoffCoefficient,
    maxIntervalMs: overrides.max_interval_ms ?? Math.max(defaults.maxIntervalMs, overrides.initial_interval_ms ?? 0),
    maxAttempts: overrides.max_attempts ?? defaults.maxAttempts,
    maxAgeMs: overrides.max_age_ms ?? defaults.maxAgeMs,
  };
}

export function effectiveTimeoutMs(destination: Pick<Destination, 'timeoutMs'>, defaults: DeliveryDefaults): number {
  return destination.timeoutMs ?? defaults.timeoutMs;
}
