import { describe, expect, it } from 'vitest';
import type { BreakerSettings, TrafficLimits } from '../../contract/traffic-gate.js';
import { CLOSED_HEALTH, decideAdmission, decideRelease, heldForSlot, QUEUE_HEAD_LENGTH, RECOVERY_WAKE_BATCH, type HealthState } from './traffic-rules.js';

const BREAKER: BreakerSettings = { failureThreshold: 3, cooldownMs: 30_000, autoDisableAfterMs: 5 * 86_400_000 };
const NO_LIMITS: TrafficLimits = { ratePerSecond: null, maxInFlight: null };
const T0 = 1_800_000_000_000;

function admit(state: HealthState, overrides: Partial<Parameters<typeof decideAdmission>[1]> = {}) {
  return decideAdmission(state, { nowMs: T0, eventId: 'evt-1', limits: NO_LIMITS, breaker: BREAKER, leaseMs: 25_000, inFlight: 0, earliestLeaseExpiryMs: null, queuePosition: 0, ...overrides });
}

function release(state: HealthState, outcome: Parameters<typeof decideRelease>[1]['outcome'], overrides: Partial<Parameters<typeof decideRelease>[1]> = {}) {
  return decideRelease(state, { nowMs: T0, eventId: 'evt-1', outcome, breaker: BREAKER, leased: true, ...overrides });
}

describe('admission', () => {
  it('admits at once when nothing limits the destination', () => {
    expect(admit(CLOSED_HEALTH).admission).toEqual({ admitted: true, probe: false, delayMs: 0 });
  });

  it('spaces requests 1/rate apart: a slot within a second is waited for in the attempt, a later one reserved for the workflow to wait', () => {
    const limits = { ratePerSecond: 2, maxInFlight: null };
    const first = admit(CLOSED_HEALTH, { limits });
    expect(first.admission).toEqual({ admitted: true, probe: false, delayMs: 0 });
    expect(first.next).toMatchObject({ nextSlotAtMs: T0 + 500, lastSlotAtMs: T0 });
    const second = admit(first.next, { eventId: 'evt-2', limits });
    expect(second.admission).toEqual({ admitted: true, probe: false, delayMs: 500 });
    const third = admit(second.next, { eventId: 'evt-3', limits });
    expect(third.admission).toEqual({ admitted: true, probe: false, delayMs: 1_000 });
    const fourth = admit(third.next, { eventId: 'evt-4', limits });
    // Woken half a second early, the attempt sleeps the rest of the way to its slot.
    expect(fourth.admission).toEqual({ admitted: false, reason: 'rate_limited', waitMs: 1_000, reservedSlotAtMs: T0 + 1_500, exact: true });
    expect(fourth.next.nextSlotAtMs).toBe(T0 + 2_000);
    expect(fourth.enqueue).toBe(false);
  });

  it('lets a delivery go at its reserved slot without taking another, and a late one in its turn, 1/rate after the last request', () => {
    const limits = { ratePerSecond: 4, maxInFlight: null };
    const state = { ...CLOSED_HEALTH, nextSlotAtMs: T0 + 3_000, lastSlotAtMs: T0 - 1_000 };
    const onTime = admit(state, { limits, reservedSlotAtMs: T0 - 10 });
    expect(onTime.admission).toEqual({ admitted: true, probe: false, delayMs: 0 });
    expect(onTime.next).toMatchObject({ nextSlotAtMs: T0 + 3_000, lastSlotAtMs: T0 });
    const early = admit(state, { limits, reservedSlotAtMs: T0 + 400 });
    expect(early.admission).toEqual({ admitted: true, probe: false, delayMs: 400 });
    const tooEarly = admit(state, { limits, reservedSlotAtMs: T0 + 2_000 });
    expect(tooEarly.admission).toEqual({ admitted: false, reason: 'rate_limited', waitMs: 1_500, reservedSlotAtMs: T0 + 2_000, exact: true });
    // Two seconds late, and the request before it went 100 ms ago: it goes 150 ms from now, keeping the spacing.
    const late = admit({ ...state, lastSlotAtMs: T0 - 100 }, { limits, reservedSlotAtMs: T0 - 2_000 });
    expect(late.admission).toEqual({ admitted: true, probe: false, delayMs: 150 });
    expect(late.next.lastSlotAtMs).toBe(T0 + 150);
  });

  it('holds and queues a delivery while max_in_flight attempts are out, at most until the first lease expires', () => {
    const full = admit(CLOSED_HEALTH, { limits: { ratePerSecond: null, maxInFlight: 2 }, inFlight: 2, earliestLeaseExpiryMs: T0 + 4_000 });
    expect(full.admission).toEqual({ admitted: false, reason: 'in_flight_full', waitMs: 4_000, reservedSlotAtMs: undefined, exact: true });
    expect(full.enqueue).toBe(true);
    // Behind the head of the queue, a delivery waits for the signal of a freed slot, backing off on its own.
    const behind = admit(CLOSED_HEALTH, { limits: { ratePerSecond: null, maxInFlight: 2 }, inFlight: 2, earliestLeaseExpiryMs: T0 + 4_000, queuePosition: QUEUE_HEAD_LENGTH });
    expect(behind.admission).toMatchObject({ admitted: false, reason: 'in_flight_full', exact: false });
    expect(behind.enqueue).toBe(true);
    const free = admit(CLOSED_HEALTH, { limits: { ratePerSecond: null, maxInFlight: 2 }, inFlight: 1 });
    expect(free).toMatchObject({ admission: { admitted: true }, lease: true });
  });

  it('holds everything while open, then lets exactly one probe through once the cool-down is over', () => {
    const open = { ...CLOSED_HEALTH, breaker: 'open' as const, openedAtMs: T0 - 10_000, openUntilMs: T0 + 20_000 };
    expect(admit(open).admission).toMatchObject({ admitted: false, reason: 'breaker_open', waitMs: 20_000, exact: true });
    expect(admit(open, { queuePosition: 500 }).admission).toMatchObject({ admitted: false, reason: 'breaker_open', waitMs: 20_000, exact: false });
    const cooled = { ...open, openUntilMs: T0 - 1 };
    const probe = admit(cooled, { limits: { ratePerSecond: 1, maxInFlight: 1 }, inFlight: 5 });
    expect(probe.admission).toEqual({ admitted: true, probe: true, delayMs: 0 });
    expect(probe.next).toMatchObject({ breaker: 'half_open', probeEventId: 'evt-1', probeUntilMs: T0 + 25_000 });
    const second = admit(probe.next, { eventId: 'evt-2' });
    expect(second.admission).toMatchObject({ admitted: false, reason: 'probe_in_flight' });
    expect(second.enqueue).toBe(true);
    // A probe whose worker died is replaced once its lease has run out.
    const replaced = admit(probe.next, { eventId: 'evt-3', nowMs: T0 + 25_001 });
    expect(replaced.admission).toEqual({ admitted: true, probe: true, delayMs: 0 });
  });
});

describe('release', () => {
  it('opens the breaker at the threshold of consecutive retryable failures, not before', () => {
    const two = { ...CLOSED_HEALTH, failureStreak: 1, failingSinceMs: T0 - 5_000 };
    const second = release(two, { kind: 'retryable_failure', reason: 'HTTP 503' });
    expect(second.next).toMatchObject({ breaker: 'closed', failureStreak: 2, failingSinceMs: T0 - 5_000 });
    expect(second.result.opened).toBeUndefined();
    const third = release(second.next, { kind: 'retryable_failure', reason: 'HTTP 503' });
    expect(third.next).toMatchObject({ breaker: 'open', failureStreak: 3, openUntilMs: T0 + 30_000 });
    expect(third.result.opened?.reason).toBe('3 consecutive failures, the last: HTTP 503');
    expect(third.result.openUntilMs).toBe(T0 + 30_000);
    expect(second.result.openUntilMs).toBeUndefined();
    expect(third.wakeCount).toBe(0);
  });

  it('wakes a waiter for a freed lease while the breaker is closed, none while it is open or probing', () => {
    const failing = { ...CLOSED_HEALTH, failureStreak: 1, failingSinceMs: T0 - 5_000 };
    expect(release(failing, { kind: 'retryable_failure', reason: 'HTTP 503' }).wakeCount).toBe(1);
    // Attempts admitted before the breaker opened end after it: each frees a lease no waiter could use yet.
    const open = { ...CLOSED_HEALTH, breaker: 'open' as const, failureStreak: 3, failingSinceMs: T0 - 5_000, openedAtMs: T0 - 1_000, openUntilMs: T0 + 29_000 };
    expect(release(open, { kind: 'retryable_failure', reason: 'HTTP 503' }).wakeCount).toBe(0);
    expect(release(open, { kind: 'neutral' }).wakeCount).toBe(0);
    const probing = { ...open, breaker: 'half_open' as const, probeEventId: 'evt-other', probeUntilMs: T0 + 25_000 };
    expect(release(probing, { kind: 'retryable_failure', reason: 'HTTP 503' }).wakeCount).toBe(0);
  });

  it('closes on a successful probe and wakes a batch of waiters; a failed probe opens it again', () => {
    const halfOpen = { ...CLOSED_HEALTH, breaker: 'half_open' as const, failureStreak: 12, failingSinceMs: T0 - 60_000, probeEventId: 'evt-1', probeUntilMs: T0 + 5_000 };
    const healed = release(halfOpen, { kind: 'success' });
    expect(healed.next).toMatchObject({ breaker: 'closed', failureStreak: 0, failingSinceMs: null, lastSuccessAtMs: T0, probeEventId: null });
    expect(healed.result.recovered).toEqual({ atMs: T0 });
    expect(healed.wakeCount).toBe(RECOVERY_WAKE_BATCH);
    const failed = release(halfOpen, { kind: 'retryable_failure', reason: 'timeout' });
    expect(failed.next).toMatchObject({ breaker: 'open', openUntilMs: T0 + 30_000, probeEventId: null });
    expect(failed.result.opened?.reason).toBe('probe failed: timeout');
  });

  it('counts a 4xx towards failing time but not the breaker, and a cancelled probe frees the probe slot only', () => {
    const refused = release(CLOSED_HEALTH, { kind: 'permanent_failure', reason: 'HTTP 410' });
    expect(refused.next).toMatchObject({ failureStreak: 0, failingSinceMs: T0, lastFailureReason: 'HTTP 410', breaker: 'closed' });
    const halfOpen = { ...CLOSED_HEALTH, breaker: 'half_open' as const, probeEventId: 'evt-1', probeUntilMs: T0 + 5_000 };
    const cancelled = release(halfOpen, { kind: 'neutral' });
    expect(cancelled.next).toMatchObject({ breaker: 'half_open', probeEventId: null });
    expect(cancelled.result).toEqual({ opened: undefined, recovered: undefined });
  });

  it('asks for auto-disable once the destination has failed for longer than the threshold', () => {
    const failing = { ...CLOSED_HEALTH, failureStreak: 400, failingSinceMs: T0 - BREAKER.autoDisableAfterMs!, breaker: 'open' as const };
    expect(release(failing, { kind: 'retryable_failure', reason: 'HTTP 502' }).disableReason).toContain('the last failure: HTTP 502');
    expect(release({ ...failing, failingSinceMs: T0 - 1_000 }, { kind: 'retryable_failure', reason: 'HTTP 502' }).disableReason).toBeUndefined();
    expect(release(failing, { kind: 'retryable_failure', reason: 'HTTP 502' }, { breaker: { ...BREAKER, autoDisableAfterMs: null } }).disableReason).toBeUndefined();
  });
});

/**
 * The cases the gate's one-statement functions (migration 1764703800000-traffic-gate-functions)
 * decide in SQL without these rules: they must be exactly what the rules decide.
 */
describe('what the one-statement gate decides in SQL', () => {
  const failing: HealthState = { ...CLOSED_HEALTH, failureStreak: 2, failingSinceMs: T0 - 60_000, lastFailureAtMs: T0 - 1_000, lastFailureReason: 'HTTP 503', lastSuccessAtMs: T0 - 90_000 };

  it('admission, breaker closed and no rate limit: admitted at once with a lease exactly when capped, the state unchanged', () => {
    for (const state of [CLOSED_HEALTH, failing]) {
      for (const maxInFlight of [null, 20]) {
        const decision = admit(state, { limits: { ratePerSecond: null, maxInFlight }, inFlight: maxInFlight === null ? 0 : 19 });
        expect(decision).toEqual({ admission: { admitted: true, probe: false, delayMs: 0 }, next: state, lease: maxInFlight !== null, enqueue: false });
      }
    }
  });

  it('admission at max_in_flight, breaker closed: queued with heldForSlot, the state unchanged', () => {
    for (const queuePosition of [0, QUEUE_HEAD_LENGTH]) {
      const input = { limits: { ratePerSecond: null, maxInFlight: 2 }, inFlight: 2, earliestLeaseExpiryMs: T0 + 4_000, queuePosition, reservedSlotAtMs: T0 + 9 };
      const decision = admit(failing, input);
      expect(decision).toEqual({ admission: heldForSlot({ nowMs: T0, ...input }), next: failing, lease: false, enqueue: true });
    }
    expect(heldForSlot({ nowMs: T0, earliestLeaseExpiryMs: T0 + 4_000, queuePosition: 0, reservedSlotAtMs: undefined })).toEqual({ admitted: false, reason: 'in_flight_full', waitMs: 4_000, reservedSlotAtMs: undefined, exact: true });
  });

  it('release of a success, breaker closed: streak and failing time end, the success is stamped, one waiter woken per freed lease, nothing else', () => {
    for (const leased of [true, false]) {
      const decision = release(failing, { kind: 'success' }, { leased });
      expect(decision).toEqual({
        next: { ...failing, failureStreak: 0, failingSinceMs: null, lastSuccessAtMs: T0, openedAtMs: null, openUntilMs: null, probeEventId: null, probeUntilMs: null },
        result: { opened: undefined, recovered: undefined },
        disableReason: undefined,
        wakeCount: leased ? 1 : 0,
      });
    }
  });

  it('release of a neutral outcome that was not the probe: nothing changes, whatever the breaker; a freed lease wakes a waiter only while it is closed', () => {
    const open: HealthState = { ...failing, breaker: 'open', failureStreak: 3, openedAtMs: T0 - 1_000, openUntilMs: T0 + 29_000 };
    const probing: HealthState = { ...failing, breaker: 'half_open', probeEventId: 'evt-other', probeUntilMs: T0 + 25_000 };
    for (const state of [CLOSED_HEALTH, failing, open, probing]) {
      for (const leased of [true, false]) {
        const wakeCount = leased && state.breaker === 'closed' ? 1 : 0;
        const openUntilMs = state.breaker === 'open' ? state.openUntilMs : undefined;
        expect(release(state, { kind: 'neutral' }, { leased })).toEqual({ next: state, result: { opened: undefined, recovered: undefined, openUntilMs }, disableReason: undefined, wakeCount });
      }
    }
  });
});
