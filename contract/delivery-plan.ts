/**
 * How Temporal retries one delivery run. Fixed when the run starts (from the destination's
 * overrides over the configured defaults) and carried by the workflow input, so every attempt of
 * the run follows the same numbers even when the destination is edited meanwhile.
 */
export interface RetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  /** Attempts one run may make: 1..MAX_ATTEMPTS_PER_RUN; runs started before that cap may carry 0 = unlimited within maxAgeMs. */
  maxAttempts: number;
  /** The retry window: all attempts of the run together end within it. */
  maxAgeMs: number;
}

/** Everything the attempts of one run follow: the same plan for the workflow's timeouts and the activity's HTTP request. */
export interface DeliveryPlan {
  /** One HTTP attempt's deadline. */
  attemptTimeoutMs: number;
  retry: RetryPolicy;
}

/**
 * How much longer than the HTTP timeout Temporal gives one attempt (its start-to-close timeout):
 * room for the activity to record the attempt after the HTTP timeout fired.
 */
export const ATTEMPT_BOOKKEEPING_MARGIN_MS = 10_000;
