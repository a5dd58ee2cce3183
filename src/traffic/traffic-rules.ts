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
  /** When the last rate-limited request was let go: the next goes no sooner than 1/rate after it. */
  lastSlotAtMs: number | null;
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
  lastSlotAtMs: null,
};

/**
 * A rate slot at most this far ahead is taken at once and waited for inside the attempt (holding
 * its worker slot that long): a Temporal timer is not precise to a few hundred milliseconds on a
 * busy server, an in-process sleep is. Slots further ahead are waited for by the workflow.
 */
export const IN_ATTEMPT_WAIT_MS = 1_000;
/** The workflow wakes this much before a reserved slot, so the attempt is there in time and sleeps the rest. */
export const ARRIVE_EARLY_MS = 500;
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
  /**
   * Deliveries queued for this destination ahead of this one (all of them when it is not queued
   * yet); read only when the delivery is about to be held for a slot or the breaker.
   */
  queuePosition: number;
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
 * The first few queued deliveries wait for the exact moment something may change (the end of a
 * cool-down, the expiry of a lease); the rest wait for a wake-up signal, looking again on their own
 * only after a backoff that grows to ten minutes. So a thousand deliveries queued behind a dead
 * receiver cost a handful of checks per cool-down, not a thousand.
 */
export const QUEUE_HEAD_LENGTH = 3;

/**
 * Whether one attempt may go now. The breaker comes first (an open one holds every delivery until
 * its cool-down ends, then lets exactly one probe through), then the cap on attempts in flight,
 * then the rate limit: a delivery reserves a slot (GCRA, slots `1/rate` apart) when it first asks,
 * waits for it, and then goes no sooner than `1/rate` after the previous request actually sent —
 * so a timer that fired late never makes two requests crowd together, and a late delivery still
 * gets its turn rather than going to the back of the line.
 */
export function decideAdmission(state: HealthState, input: AdmissionInput): AdmissionDecision {
  const { nowMs } = input;
  const head = input.queuePosition < QUEUE_HEAD_LENGTH;
  if (state.breaker === 'open' || state.breaker === 'half_open') {
    const probeRunning = state.breaker === 'half_open' && state.probeEventId !== input.eventId && (state.probeUntilMs ?? 0) > nowMs;
    if (state.breaker === 'open' && (state.openUntilMs ?? 0) > nowMs) {
      return queued(state, 'breaker_open', (state.openUntilMs ?? nowMs) - nowMs, head, input.reservedSlotAtMs);
    }
    if (probeRunning) {
      return queued(state, 'probe_in_flight', Math.min((state.probeUntilMs ?? nowMs) - nowMs, input.breaker.cooldownMs), head, input.reservedSlotAtMs);
    }
    // The cool-down is over (or the last probe's worker died): this attempt is the probe. It goes
    // whatever the limits say: one request per cool-down is within any of them.
    const next: HealthState = { ...state, breaker: 'half_open', probeEventId: input.eventId, probeUntilMs: nowMs + input.leaseMs };
    return { admission: { admitted: true, probe: true, delayMs: 0 }, next, lease: true, enqueue: false };
  }

  const { maxInFlight, ratePerSecond } = input.limits;
  if (maxInFlight !== null && input.inFlight >= maxInFlight) {
    return { admission: heldForSlot(input), next: state, lease: false, enqueue: true };
  }
  let next = state;
  let sendAtMs = nowMs;
  if (ratePerSecond !== null) {
    const intervalMs = 1000 / ratePerSecond;
    let reserved = input.reservedSlotAtMs;
    if (reserved === undefined) {
      reserved = Math.max(state.nextSlotAtMs ?? nowMs, nowMs);
      next = { ...next, nextSlotAtMs: reserved + intervalMs };
    }
    sendAtMs = Math.max(reserved, nowMs, state.lastSlotAtMs === null ? nowMs : state.lastSlotAtMs + intervalMs);
    if (sendAtMs > nowMs + IN_ATTEMPT_WAIT_MS) {
      const waitMs = Math.max(sendAtMs - nowMs - ARRIVE_EARLY_MS, 0);
      return { admission: { admitted: false, reason: 'rate_limited', waitMs, reservedSlotAtMs: reserved, exact: true }, next, lease: false, enqueue: false };
    }
    next = { ...next, lastSlotAtMs: sendAtMs };
  }
  return { admission: { admitted: true, probe: false, delayMs: Math.max(sendAtMs - nowMs, 0) }, next, lease: maxInFlight !== null, enqueue: false };
}

/**
 * The hold of a delivery that finds `max_in_flight` attempts in flight (breaker closed): queued, the
 * head of the queue looking again when the first lease expires (at most 30 s on), the rest waiting
 * for a wake-up. Also what the gate's one-statement admission returns for a full destination.
 */
export function heldForSlot(input: Pick<AdmissionInput, 'nowMs' | 'earliestLeaseExpiryMs' | 'queuePosition' | 'reservedSlotAtMs'>): Admission {
  const untilExpiry = input.earliestLeaseExpiryMs === null ? LONGEST_SLOT_WAIT_MS : input.earliestLeaseExpiryMs - input.nowMs;
  const waitMs = Math.min(Math.max(untilExpiry, 0), LONGEST_SLOT_WAIT_MS);
  return { admitted: false, reason: 'in_flight_full', waitMs, reservedSlotAtMs: input.reservedSlotAtMs, exact: input.queuePosition < QUEUE_HEAD_LENGTH };
}

/** Held and queued: the head of the queue waits `waitMs` exactly, the others for a signal or their backoff. */
function queued(state: HealthState, reason: 'breaker_open' | 'probe_in_flight', waitMs: number, head: boolean, reservedSlotAtMs: number | undefined): AdmissionDecision {
  return {
    admission: { admitted: false, reason, waitMs: Math.max(0, waitMs), reservedSlotAtMs, exact: head },
    next: state,
    lease: false,
    enqueue: true,
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
  // A freed slot has one place, but only a closed breaker lets a woken delivery use it: woken while
  // the breaker is open or probing, it would only be held again, at the cost of a signal, a workflow
  // task and an activity each (the head of the queue waits for the cool-down's end on its own).
  const wakeCount = recovered ? RECOVERY_WAKE_BATCH : next.breaker !== 'closed' ? 0 : input.leased || wasProbe ? 1 : 0;
  const openUntilMs = next.breaker === 'open' && next.openUntilMs !== null ? next.openUntilMs : undefined;
  return { next, result: { opened, recovered, openUntilMs }, disableReason, wakeCount };
}
