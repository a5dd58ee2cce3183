import { Injectable } from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Admission, AdmissionRequest, ReleaseRequest, ReleaseResult, TrafficGate } from '../../contract/traffic-gate.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import { decideAdmission, decideRelease, heldForSlot } from './traffic-rules.js';
import { TrafficRepository } from './traffic.repository.js';

/** One decision under the destination's row lock and the next one waiting for it in PostgreSQL. */
const GATE_CONNECTIONS_PER_DESTINATION = 2;

/**
 * The traffic gate on PostgreSQL, shared by every worker process: every decision locks the
 * destination's health row first, so two workers never both take the last slot, and a lease
 * outlives a dead worker only until its attempt's timeout.
 *
 * The common attempt — no rate limit, breaker closed, a success or a refusal (4xx) — costs one
 * statement to admit and one to release (database functions that lock, then read what the lock's
 * previous holder wrote). Everything else (a rate limit, an open or half-open breaker, a retryable
 * failure, a refusal due to auto-disable the destination) is decided here by
 * traffic-rules.ts in one short transaction, as it is the rules that need the state.
 *
 * Within one process, the decisions of one destination also take turns here, before they take a
 * database connection: they would wait for each other on the row lock anyway, and a connection
 * waiting on a lock is one the other destinations cannot use. Twenty attempts timing out together
 * at one receiver used to queue twenty failure releases on its row, holding every connection of the
 * worker's pool (10) for a few hundred milliseconds; every other destination's attempts and the
 * outbox dispatcher waited for a connection meanwhile (benchmark noisy-neighbour phase, docs/TRAFFIC.md).
 * Now a destination holds at most two of a process's connections in the gate: one deciding under
 * the lock, one already waiting for it inside PostgreSQL, so the lock passes from one decision to
 * the next without a round trip to this process in between.
 */
@Injectable()
export class PostgresTrafficGate implements TrafficGate {
  /** Per destination id while it has decisions running or queued, first come first served. */
  private readonly turns = new Map<string, LimitFunction>();

  constructor(
    private readonly traffic: TrafficRepository,
    private readonly destinations: DestinationRepository,
  ) {}

  admit(request: AdmissionRequest): Promise<Admission> {
    return this.inTurn(request.destinationId, () => this.admitNow(request));
  }

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.inTurn(request.destinationId, () => this.releaseNow(request));
  }

  private async inTurn<T>(destinationId: string, decide: () => Promise<T>): Promise<T> {
    let limit = this.turns.get(destinationId);
    if (!limit) {
      limit = pLimit(GATE_CONNECTIONS_PER_DESTINATION);
      this.turns.set(destinationId, limit);
    }
    try {
      return await limit(decide);
    } finally {
      // The last decision of a burst takes its destination's queue with it.
      if (limit.activeCount === 0 && limit.pendingCount === 0 && this.turns.get(destinationId) === limit) this.turns.delete(destinationId);
    }
  }

  private async admitNow(request: AdmissionRequest): Promise<Admission> {
    // A rate limit moves the limiter's slots at every admission: the rules decide it, below.
    if (request.limits.ratePerSecond === null) {
      const plain = await this.traffic.admitPlain(request, request.limits.maxInFlight, request.leaseMs);
      if (plain.decided) {
        // As decideAdmission with a closed breaker and no rate limit: admitted at once, or held for a slot.
        if (plain.admitted) return { admitted: true, probe: false, delayMs: 0 };
        return heldForSlot({ ...plain, reservedSlotAtMs: request.reservedSlotAtMs });
      }
    }
    return this.admitInTransaction(request);
  }

  private async releaseNow(request: ReleaseRequest): Promise<ReleaseResult> {
    const { outcome } = request;
    // A retryable failure moves the breaker: the rules decide it, below.
    if (outcome.kind !== 'retryable_failure') {
      const plain = await this.traffic.releasePlain(request.destinationId, request.eventId, outcome, request.breaker.autoDisableAfterMs);
      if (plain.settled) return { opened: undefined, recovered: undefined, disabled: undefined, wake: plain.wake };
      // Not settled (the breaker is not closed, this was the probe, or a refusal due to auto-disable): the lease is already gone.
      return this.releaseInTransaction(request, plain.leased);
    }
    return this.releaseInTransaction(request);
  }

  /** The full admission: the breaker, the cap and the rate limit, decided under the row lock. */
  private admitInTransaction(request: AdmissionRequest): Promise<Admission> {
    return this.traffic.transaction(async (manager) => {
      const { state, nowMs } = await this.traffic.lockHealth(manager, request.destinationId, request.accountId);
      const needsCount = request.limits.maxInFlight !== null && state.breaker === 'closed';
      const { inFlight, earliestExpiryMs } = needsCount
        ? await this.traffic.countInFlight(manager, request.destinationId, request.eventId)
        : { inFlight: 0, earliestExpiryMs: null };
      const input = {
        nowMs,
        eventId: request.eventId,
        limits: request.limits,
        breaker: request.breaker,
        leaseMs: request.leaseMs,
        reservedSlotAtMs: request.reservedSlotAtMs,
        inFlight,
        earliestLeaseExpiryMs: earliestExpiryMs,
        queuePosition: 0,
      };
      let decision = decideAdmission(state, input);
      // Only a delivery about to be queued needs its place in the queue (one more statement, on the slow path).
      if (decision.enqueue) {
        decision = decideAdmission(state, { ...input, queuePosition: await this.traffic.queuePosition(manager, request.destinationId, request.workflowId) });
      }
      // Nothing to write for a plain admission without a cap, a reservation or a queue place to keep.
      if (decision.next !== state || decision.lease || decision.enqueue || decision.admission.admitted) {
        await this.traffic.storeAdmission(manager, request, decision.next, {
          leaseUntilMs: decision.lease ? nowMs + request.leaseMs : null,
          enqueue: decision.enqueue,
        });
      }
      return decision.admission;
    });
  }

  /**
   * The full release: the outcome's effect on the breaker and auto-disable, decided under the row
   * lock. `leased` is given when the lease was already dropped (by the one-statement release).
   */
  private releaseInTransaction(request: ReleaseRequest, leasedBefore?: boolean): Promise<ReleaseResult> {
    return this.traffic.transaction(async (manager) => {
      const { state, nowMs } = await this.traffic.lockHealth(manager, request.destinationId, request.accountId);
      const leased = leasedBefore ?? (await this.traffic.dropLease(manager, request.destinationId, request.eventId));
      const decision = decideRelease(state, { nowMs, eventId: request.eventId, outcome: request.outcome, breaker: request.breaker, leased });
      const wake = await this.traffic.storeRelease(manager, request.destinationId, decision.next, decision.wakeCount);
      let disabled: ReleaseResult['disabled'];
      if (decision.disableReason !== undefined) {
        const changed = await this.destinations.disableAfterFailures(request.accountId, request.destinationId, decision.disableReason, manager);
        if (changed) disabled = { atMs: nowMs, reason: decision.disableReason };
      }
      return { ...decision.result, disabled, wake };
    });
  }
}
