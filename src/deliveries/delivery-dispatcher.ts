import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DeliveryWorkflowInput } from '../../contract/delivery-activities.js';
import type { DeliveryPlan } from '../../contract/delivery-plan.js';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { DeliveryDefaults } from '../config/app-config.js';
import type { DispatchDestination } from '../destinations/destination.repository.js';
import { effectiveRetryPolicy } from '../destinations/retry-policy.js';
import { ACCOUNT_ID, CANONICAL_EVENT, DELIVERY_STATUS, DESTINATION_ID, TARGET_EVENT } from '../../contract/search-attributes.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import { DeliveryRepository, type DeliveryToDispatch } from './delivery.repository.js';

/** A request waits at most this long for Temporal (a start, a cancel) before answering 503. */
export const TEMPORAL_CALL_DEADLINE_MS = 10_000;

/**
 * Workflow starts one dispatch keeps in flight at once. An event fans out to up to its account's
 * destination limit (MAX_DESTINATIONS unless the account overrides it); starting them all together would open that many gRPC calls per
 * ingest request and let a burst of ingests swamp the Temporal frontend.
 */
export const MAX_CONCURRENT_WORKFLOW_STARTS = 16;

/** Everything needed to start the workflow of one delivery, the plan its run follows included. */
export interface DeliveryDispatch extends DeliveryPlan {
  eventId: string;
  /** The account of the delivery: its workflow is searchable by it and names it in the memo. */
  accountId: string;
  workflowId: string;
  destinationId: string;
  destinationName: string;
  canonical: CanonicalEvent;
  targetEvent: string;
}

/** The workflow id of a delivery: one per event_id, which is what makes every start idempotent. */
export function deliveryWorkflowId(eventId: string): string {
  return `delivery-${eventId}`;
}

/** The plan a delivery's run starts with: its destination's overrides over the global defaults, fixed for the run. */
export function toDeliveryDispatch(delivery: Omit<DeliveryToDispatch, 'destination'>, destination: DispatchDestination, defaults: DeliveryDefaults): DeliveryDispatch {
  return {
    eventId: delivery.eventId,
    accountId: delivery.accountId,
    workflowId: deliveryWorkflowId(delivery.eventId),
    destinationId: destination.id,
    destinationName: destination.name,
    canonical: delivery.canonical,
    targetEvent: delivery.targetEvent,
    attemptTimeoutMs: destination.timeoutMs ?? defaults.timeoutMs,
    retry: effectiveRetryPolicy(destination.retryPolicy, defaults),
  };
}

/**
 * Starts delivery workflows for rows already committed to the database, then marks them
 * dispatched. Starting is idempotent (one workflow id per event_id), so a dispatch repeated
 * after a crash or a retried ingest never sends twice.
 */
@Injectable()
export class DeliveryDispatcher {
  private readonly logger = new Logger(DeliveryDispatcher.name);
  /** Dispatched deliveries waiting for the next `dispatched_at` UPDATE, and whether one is in flight. */
  private readonly pendingMarks: Array<{ eventIds: string[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private marking = false;

  constructor(
    @Inject(Client) private readonly temporal: Client,
    private readonly deliveries: DeliveryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts every dispatch (MAX_CONCURRENT_WORKFLOW_STARTS at a time, all within one deadline), marks
   * those started, and throws DispatchUnavailable when Temporal was unavailable for some; any other
   * start failure is rethrown as it is.
   */
  async dispatch(dispatches: DeliveryDispatch[]): Promise<void> {
    if (dispatches.length === 0) return;
    const deadline = Date.now() + TEMPORAL_CALL_DEADLINE_MS;
    const results = await settleWithConcurrency(dispatches, MAX_CONCURRENT_WORKFLOW_STARTS, (dispatch) => this.start(dispatch, 'first', deadline));
    const started = dispatches.filter((_, index) => results[index]!.status === 'fulfilled').map((d) => d.eventId);
    if (started.length > 0) await this.markDispatched(started);
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length > 0) {
      const first = failed[0]!.reason;
      this.logger.warn(`${failed.length} of ${dispatches.length} delivery workflows could not be started: ${describeTemporalError(first) ?? String(first)}`);
      // Only an outage is worth the producer's retry. Any other failure (Temporal refusing the start
      // as invalid, or our own error) would happen again, so it goes to the edge as the bug it is.
      const bug = failed.find((result) => !isTemporalUnavailableError(result.reason));
      if (bug) throw bug.reason;
      throw new DeliveryError(
        DeliveryErrorCode.DispatchUnavailable,
        'Temporal is unavailable: the event is stored but not yet dispatched; send it again with the same id',
      );
    }
  }

  /**
   * Records that these deliveries' workflows were started. Requests that finish their starts while
   * an UPDATE is in flight share the next one (group commit): under load one statement marks the
   * deliveries of many ingests, and never more than one statement per dispatch. A mark lost to a
   * crash is harmless: the sweeper starts the delivery again, which Temporal treats as a no-op.
   */
  private markDispatched(eventIds: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingMarks.push({ eventIds, resolve, reject });
      if (!this.marking) void this.flushMarks();
    });
  }

  private async flushMarks(): Promise<void> {
    this.marking = true;
    try {
      while (this.pendingMarks.length > 0) {
        const batch = this.pendingMarks.splice(0);
        try {
          await this.deliveries.markDispatched(batch.flatMap((mark) => mark.eventIds));
          for (const mark of batch) mark.resolve();
        } catch (error) {
          for (const mark of batch) mark.reject(error);
        }
      }
    } finally {
      this.marking = false;
    }
  }

  /**
   * A new run of a failed, cancelled or skipped delivery, under the same workflow id and event_id.
   * Which deliveries may be retried is decided by the caller's conditional claim on the row (a
   * `sent` one never is); Temporal still refuses a start while a run is open, so two concurrent
   * retries cannot run at once. A closed run of any kind may be followed: a skipped delivery's run
   * completed. Throws WorkflowExecutionAlreadyStartedError when refused.
   */
  async startRetry(dispatch: DeliveryDispatch): Promise<void> {
    await this.start(dispatch, 'retry', Date.now() + TEMPORAL_CALL_DEADLINE_MS);
  }

  private async start(dispatch: DeliveryDispatch, run: 'first' | 'retry', deadline: number): Promise<void> {
    const input: DeliveryWorkflowInput = {
      eventId: dispatch.eventId,
      destinationId: dispatch.destinationId,
      attemptTimeoutMs: dispatch.attemptTimeoutMs,
      retry: dispatch.retry,
    };
    try {
      await this.temporal.connection.withDeadline(deadline, () => this.temporal.workflow.start('deliveryWorkflow', {
        workflowId: dispatch.workflowId,
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: run === 'first' ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: run === 'first' ? 'USE_EXISTING' : 'FAIL',
        typedSearchAttributes: [
          { key: ACCOUNT_ID, value: dispatch.accountId },
          { key: DESTINATION_ID, value: dispatch.destinationId },
          { key: CANONICAL_EVENT, value: dispatch.canonical },
          { key: TARGET_EVENT, value: dispatch.targetEvent },
          { key: DELIVERY_STATUS, value: 'pending' },
        ],
        memo: { account_id: dispatch.accountId, destination_name: dispatch.destinationName },
      }));
    } catch (error) {
      // Already started (or finished) earlier: exactly what an idempotent first dispatch wants.
      if (run === 'first' && error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw error;
    }
  }
}

/**
 * Promise.allSettled over `items`, with at most `limit` calls of `run` pending at once: every item
 * is run whatever happens to the others, and the results keep the order of the items.
 */
async function settleWithConcurrency<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await run(items[index]!) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
