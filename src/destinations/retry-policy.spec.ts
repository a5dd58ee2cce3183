import { describe, expect, it } from 'vitest';
import type { DeliveryDefaults } from '../config/app-config.js';
import { effectiveRetryPolicy, MAX_ATTEMPTS_PER_RUN } from './retry-policy.js';

const defaults: DeliveryDefaults = {
  initialIntervalMs: 10_000,
  backoffCoefficient: 2,
  maxIntervalMs: 3_600_000,
  maxAttempts: 0,
  maxAgeMs: 259_200_000,
  timeoutMs: 15_000,
};

describe('effectiveRetryPolicy', () => {
  it(`runs max_attempts 0 ("as many as fit in max_age_ms") as ${MAX_ATTEMPTS_PER_RUN} attempts`, () => {
    expect(effectiveRetryPolicy({ max_attempts: 0 }, defaults).maxAttempts).toBe(MAX_ATTEMPTS_PER_RUN);
  });

  it(`runs the default of 0 attempts as ${MAX_ATTEMPTS_PER_RUN}`, () => {
    expect(effectiveRetryPolicy({}, defaults).maxAttempts).toBe(MAX_ATTEMPTS_PER_RUN);
  });

  it(`caps a stored max_attempts above ${MAX_ATTEMPTS_PER_RUN}, saved before the ceiling existed`, () => {
    expect(effectiveRetryPolicy({ max_attempts: 1000 }, defaults).maxAttempts).toBe(MAX_ATTEMPTS_PER_RUN);
  });

  it('keeps a max_attempts within the ceiling as given', () => {
    expect(effectiveRetryPolicy({ max_attempts: 7 }, defaults).maxAttempts).toBe(7);
  });
});
