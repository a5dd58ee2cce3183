import type { Admission, BreakerSettings, HealthOutcome, ReleaseResult, TrafficLimits } from '../../contract/traffic-gate.js';

/** The breaker and rate-limiter state of one destination, as the gate reads it under its row lock. */
export interface HealthState {
  breaker: 'closed' | 'open' | 'half_open';
  failureStreak: number;
  failingSinceMs: number | null;
  openedAtMs: number | null;
  openUntilMs: number | null;
  probeEventId: string | null;
  probeUntilMs: number | null;
  lastSuccessAtMs: number | null;
  lastFailureAtMs: number | null;
  lastFailureReason: string | null;
  nextSlotAtMs: number | null;
}

export const CLOSED_HEALTH: HealthState = {
  breaker: 'closed',
  failureStreak: 0,
  failingSinceMs: null,
  openedAtMs: null,
  openUntilMs: null,
  probeEventId: null,
  probeUntilMs: null,
  lastSuccessAtMs: null,
  lastFailureAtMs: null,
  lastFailureReason: null,
  nextSlotAtMs: null,
};

/**
 * A rate slot at most this far ahead is taken at once and waited for inside the attempt (holding
 * its worker slot that long): a Temporal timer is not precise to a few hundred milliseconds on a
 * busy server, an in-process sleep is. Slots further ahead are waited for by the workflow.
 */
export const IN_ATTEMPT_WAIT_MS = 1_000;
/** The workflow wakes this much before a reserved slot, so the attempt is there in time and sleeps the rest. */
export const ARRIVE_EARLY_MS = 500;
/**
 * A delivery that comes for its reserved rate slot later than this gives the slot up and takes the
 * next free one: were it sent late anyway, it would crowd the deliveries of the slots after its own
 * and the rate over a window could exceed the limit. With it, any window of W ms holds at most
 * (W + LATE_SLOT_GRACE_MS) × rate / 1000 + 1 requests.
 */
export const LATE_SLOT_GRACE_MS = 250;
/** A waiter for a free slot also looks again after at most this long, should no wake reach it. */
export const LONGEST_SLOT_WAIT_MS = 30_000;
/** A recovered destination wakes this many of its waiting deliveries at once; each release wakes one more. */
export const RECOVERY_WAKE_BATCH = 100;

export interface AdmissionInput {
  nowMs: number;
  eventId: string;
  limits: TrafficLimits;
  breaker: BreakerSettings;
  leaseMs: number;
  reservedSlotAtMs?: number;
  /** Leases of other deliveries still in flight at the destination, and when the first of them expires. */
  inFlight: number;
  earliestLeaseExpiryMs: number | null;
}

export interface AdmissionDecision {
  admission: Admission;
  /** The state to store (unchanged when nothing moved). */
  next: HealthState;
  /** Take a lease for this attempt (it counts towards max_in_flight, or it is the probe). */
  lease: boolean;
  /** Queue the delivery to be woken when a slot frees or the breaker closes. */
  enqueue: boolean;
}

/**
 * Whether one attempt may go now. The breaker comes first (an open one holds every delivery until
 * its cool-down ends, then lets exactly one probe through), then the cap on attempts in flight,
 * then the rate limit, which reserves the delivery's slot (GCRA: slots `1/rate` apart) so that a
 * held delivery waits exactly until its turn and is not asked again before it.
 */
export function decideAdmission(state: HealthState, input: AdmissionInput): AdmissionDecision {
  const { nowMs } = input;
  let next = state;
  let probe = false;
  if (state.breaker === 'open' || state.breaker === 'half_open') {
    const probeRunning = state.breaker === 'half_open' && state.probeEventId !== input.eventId && (state.probeUntilMs ?? 0) > nowMs;
    if (state.breaker === 'open' && (state.openUntilMs ?? 0) > nowMs) {
      return hold(state, 'breaker_open', (state.openUntilMs ?? nowMs) - nowMs, input.reservedSlotAtMs);
    }
    if (probeRunning) {
      return hold(state, 'probe_in_flight', Math.min((state.probeUntilMs ?? nowMs) - nowMs, input.breaker.cooldownMs), input.reservedSlotAtMs);
    }
    // The cool-down is over (or the last probe's worker died): this attempt is the probe. It goes
    // whatever the limits say: one request per cool-down is within any of them.
    next = { ...state, breaker: 'half_open', probeEventId: input.eventId, probeUntilMs: nowMs + input.leaseMs };
    probe = true;
    return { admission: { admitted: true, probe, delayMs: 0 }, next, lease: true, enqueue: false };
  }

  const { maxInFlight, ratePerSecond } = input.limits;
  if (maxInFlight !== null && input.inFlight >= maxInFlight) {
    const untilExpiry = input.earliestLeaseExpiryMs === null ? LONGEST_SLOT_WAIT_MS : input.earliestLeaseExpiryMs - nowMs;
    return { ...hold(state, 'in_flight_full', Math.min(Math.max(untilExpiry, 0), LONGEST_SLOT_WAIT_MS), input.reservedSlotAtMs), enqueue: true };
  }
  let slotMs = nowMs;
  if (ratePerSecond !== null) {
    const reserved = input.reservedSlotAtMs;
    if (reserved !== undefined && nowMs - reserved <= LATE_SLOT_GRACE_MS) {
      // The slot was taken when it was reserved: go at its time without taking another.
      slotMs = reserved;
    } else {
      slotMs = Math.max(state.nextSlotAtMs ?? nowMs, nowMs);
      next = { ...state, nextSlotAtMs: slotMs + 1000 / ratePerSecond };
    }
    if (slotMs > nowMs + IN_ATTEMPT_WAIT_MS) {
      const waitMs = Math.max(slotMs - nowMs - ARRIVE_EARLY_MS, 0);
      return { admission: { admitted: false, reason: 'rate_limited', waitMs, reservedSlotAtMs: slotMs }, next, lease: false, enqueue: false };
    }
  }
  return { admission: { admitted: true, probe: false, delayMs: Math.max(slotMs - nowMs, 0) }, next, lease: maxInFlight !== null, enqueue: false };
}

function hold(state: HealthState, reason: 'breaker_open' | 'probe_in_flight' | 'in_flight_full' | 'rate_limited', waitMs: number, reservedSlotAtMs: number | undefined): AdmissionDecision {
  return {
    admission: { admitted: false, reason, waitMs: Math.max(0, waitMs), reservedSlotAtMs },
    next: state,
    lease: false,
    enqueue: reason !== 'rate_limited',
  };
}

export interface ReleaseDecision {
  next: HealthState;
  result: Omit<ReleaseResult, 'wake' | 'disabled'>;
  /** Failing for longer than the auto-disable threshold: disable the destination with this reason. */
  disableReason: string | undefined;
  /** How many waiting deliveries to wake. */
  wakeCount: number;
}

/**
 * What an attempt's outcome does to the destination's health. A success closes the breaker and
 * ends the failing streak; a retryable failure lengthens the streak and opens the breaker at the
 * threshold (or again, when it was the probe); a permanent refusal shows the receiver is up, so it
 * ends an open breaker but still counts as failing time towards auto-disable.
 */
export function decideRelease(state: HealthState, input: { nowMs: number; eventId: string; outcome: HealthOutcome; breaker: BreakerSettings; leased: boolean }): ReleaseDecision {
  const { nowMs, outcome, breaker } = input;
  const wasProbe = state.breaker === 'half_open' && state.probeEventId === input.eventId;
  let next: HealthState = wasProbe ? { ...state, probeEventId: null, probeUntilMs: null } : state;
  let opened: ReleaseResult['opened'];
  let recovered: ReleaseResult['recovered'];
  let disableReason: string | undefined;

  const close = () => {
    if (next.breaker !== 'closed') recovered = { atMs: nowMs };
    next = { ...next, breaker: 'closed', openedAtMs: null, openUntilMs: null, probeEventId: null, probeUntilMs: null };
  };
  switch (outcome.kind) {
    case 'success':
      next = { ...next, failureStreak: 0, failingSinceMs: null, lastSuccessAtMs: nowMs };
      close();
      break;
    case 'permanent_failure':
      next = { ...next, failingSinceMs: next.failingSinceMs ?? nowMs, lastFailureAtMs: nowMs, lastFailureReason: outcome.reason };
      close();
      break;
    case 'retryable_failure': {
      const streak = next.failureStreak + 1;
      next = { ...next, failureStreak: streak, failingSinceMs: next.failingSinceMs ?? nowMs, lastFailureAtMs: nowMs, lastFailureReason: outcome.reason };
      const reopen = wasProbe || (next.breaker === 'closed' && streak >= breaker.failureThreshold);
      if (reopen) {
        next = { ...next, breaker: 'open', openedAtMs: nowMs, openUntilMs: nowMs + breaker.cooldownMs, probeEventId: null, probeUntilMs: null };
        opened = { atMs: nowMs, reason: wasProbe ? `probe failed: ${outcome.reason}` : `${streak} consecutive failures, the last: ${outcome.reason}` };
      }
      break;
    }
    case 'neutral':
      break;
  }
  if (
    (outcome.kind === 'retryable_failure' || outcome.kind === 'permanent_failure') &&
    breaker.autoDisableAfterMs !== null &&
    next.failingSinceMs !== null &&
    nowMs - next.failingSinceMs >= breaker.autoDisableAfterMs
  ) {
    disableReason = `failing without a success since ${new Date(next.failingSinceMs).toISOString()}; the last failure: ${outcome.reason}`;
  }
  // A breaker that just opened has nothing to offer a waiter; a freed slot has one place.
  const wakeCount = recovered ? RECOVERY_WAKE_BATCH : opened ? 0 : input.leased || wasProbe ? 1 : 0;
  return { next, result: { opened, recovered }, disableReason, wakeCount };
}
