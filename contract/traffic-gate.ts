/**
 * Traffic control of one destination (docs/TRAFFIC.md): a rate limit, a cap on attempts in flight
 * and a circuit breaker, shared by every worker process through the database. The send activity
 * asks for admission before each attempt and reports the outcome after it; a delivery that is not
 * admitted is held by its workflow (a timer, woken early by a signal), which costs no attempt.
 */

/** The limits in force for one destination: its own, else its account's defaults, else the configured ones. */
export interface TrafficLimits {
  /** Requests per second (may be fractional); null = no rate limit. */
  ratePerSecond: number | null;
  /** Attempts in flight at once across all workers; null = no cap. */
  maxInFlight: number | null;
}

export interface BreakerSettings {
  /** Consecutive retryable failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker holds deliveries before one probe may go. */
  cooldownMs: number;
  /** Failing for this long without a success disables the destination; null = never. */
  autoDisableAfterMs: number | null;
}

/** Why a delivery waits instead of attempting. */
export const HOLD_REASONS = [
  'account_disabled',
  'destination_paused',
  'breaker_open',
  'probe_in_flight',
  'rate_limited',
  'in_flight_full',
] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export interface AdmissionRequest {
  destinationId: string;
  accountId: string;
  eventId: string;
  workflowId: string;
  limits: TrafficLimits;
  breaker: BreakerSettings;
  /** How long the lease of an admitted attempt lasts should its worker die: the attempt's whole timeout. */
  leaseMs: number;
  /** The rate slot this delivery reserved on an earlier hold: it goes at that time without taking another. */
  reservedSlotAtMs?: number;
}

export type Admission =
  | {
      admitted: true;
      /** The single attempt a half-open breaker lets through. */
      probe: boolean;
      /** Wait this long before sending: the rate slot taken is this close ahead (never more than a second). */
      delayMs: number;
    }
  | {
      admitted: false;
      reason: HoldReason;
      /** How long to wait before asking again; a signal may end the wait sooner. */
      waitMs: number;
      /** Set when the wait ends at a rate slot reserved for this delivery. */
      reservedSlotAtMs?: number;
      /**
       * True: wait exactly `waitMs` (a rate slot, or the head of the queue waiting for a cool-down or
       * a lease to end). False: the delivery is queued and woken by a signal; `waitMs` is only the
       * least it waits before looking again on its own, after a backoff of its own.
       */
      exact: boolean;
    };

/** What an attempt's outcome means for the destination's health. */
export type HealthOutcome =
  | { kind: 'success' }
  /** 5xx, 408, 429, timeouts, network errors: counted by the breaker and towards auto-disable. */
  | { kind: 'retryable_failure'; reason: string }
  /** Any other refusal (4xx): the receiver is up but failing; counted towards auto-disable only. */
  | { kind: 'permanent_failure'; reason: string }
  /** Aborted by a cancel, or never sent: releases the slot and changes nothing else. */
  | { kind: 'neutral' };

export interface ReleaseRequest {
  destinationId: string;
  accountId: string;
  eventId: string;
  outcome: HealthOutcome;
  breaker: BreakerSettings;
}

/** What a release changed, for the notifications and the waiters it woke. */
export interface ReleaseResult {
  /** The breaker opened with this attempt (closed → open, or a failed probe). */
  opened: { atMs: number; reason: string } | undefined;
  /** A probe succeeded: the breaker closed again. */
  recovered: { atMs: number } | undefined;
  /** The breaker is open after this release, its cool-down ending then (epoch ms); undefined otherwise. */
  openUntilMs?: number;
  /** Failing longer than `autoDisableAfterMs`: the destination was disabled with this reason. */
  disabled: { atMs: number; reason: string } | undefined;
  /** Workflows of waiting deliveries to wake now that a slot is free. */
  wake: string[];
}

export interface TrafficGate {
  admit(request: AdmissionRequest): Promise<Admission>;
  release(request: ReleaseRequest): Promise<ReleaseResult>;
}

/** Wakes held delivery workflows (the resume signal); best effort, each also wakes on its own timer. */
export interface DeliveryWaker {
  wake(workflowIds: string[]): Promise<void>;
}
