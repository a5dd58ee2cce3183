import { Injectable } from '@nestjs/common';
import type { Admission, AdmissionRequest, ReleaseRequest, ReleaseResult, TrafficGate } from '../../contract/traffic-gate.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import { decideAdmission, decideRelease } from './traffic-rules.js';
import { TrafficRepository } from './traffic.repository.js';

/**
 * The traffic gate on PostgreSQL, shared by every worker process: each decision is one short
 * transaction that locks the destination's health row, so two workers never both take the last
 * slot, and a lease outlives a dead worker only until its attempt's timeout.
 */
@Injectable()
export class PostgresTrafficGate implements TrafficGate {
  constructor(
    private readonly traffic: TrafficRepository,
    private readonly destinations: DestinationRepository,
  ) {}

  admit(request: AdmissionRequest): Promise<Admission> {
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

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.traffic.transaction(async (manager) => {
      const { state, nowMs } = await this.traffic.lockHealth(manager, request.destinationId, request.accountId);
      const leased = await this.traffic.dropLease(manager, request.destinationId, request.eventId);
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
