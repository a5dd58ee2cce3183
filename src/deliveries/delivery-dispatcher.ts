import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DeliveryWorkflowInput } from '../../contract/delivery-activities.js';
import type { DeliveryPlan } from '../../contract/delivery-plan.js';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { DeliveryDefaults } from '../config/app-config.js';
import type { DispatchDestination } from '../destinations/destination.repository.js';
import { effectiveRetryPolicy } from '../destinations/retry-policy.js';
import { ACCOUNT_ID, CANONICAL_EVENT, DESTINATION_ID, TARGET_EVENT } from '../../contract/search-attributes.js';
import type { DeliveryToDispatch } from './delivery.repository.js';

/** A request waits at most this long for Temporal (a start, a cancel) before answering 503. */
export const TEMPORAL_CALL_DEADLINE_MS = 10_000;

/**
 * Workflow starts one dispatcher keeps in flight at once: enough to keep a Temporal frontend busy
 * from one process, few enough that a claimed batch cannot swamp it with gRPC calls.
 */
export const MAX_CONCURRENT_WORKFLOW_STARTS = 32;

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

/** What a batch of first starts came to: the deliveries Temporal accepted, and those it did not, with why. */
export interface StartOutcome {
  started: string[];
  failed: Array<{ eventId: string; error: unknown }>;
}

/**
 * Starts delivery workflows for rows already committed to the database: the outbox dispatcher's
 * claimed batches, and operator retries. Starting is idempotent (one workflow id per event_id), so
 * a start repeated after a crash or by a second dispatcher never sends twice.
 */
@Injectable()
export class DeliveryDispatcher {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts every dispatch, MAX_CONCURRENT_WORKFLOW_STARTS at a time and all within one deadline,
   * and reports which Temporal accepted; a failed start never stops the others. Marking the started
   * rows is the caller's (one statement for the batch).
   */
  async startAll(dispatches: DeliveryDispatch[]): Promise<StartOutcome> {
    const deadline = Date.now() + TEMPORAL_CALL_DEADLINE_MS;
    const results = await settleWithConcurrency(dispatches, MAX_CONCURRENT_WORKFLOW_STARTS, (dispatch) => this.start(dispatch, 'first', deadline));
    const outcome: StartOutcome = { started: [], failed: [] };
    results.forEach((result, index) => {
      const eventId = dispatches[index]!.eventId;
      if (result.status === 'fulfilled') outcome.started.push(eventId);
      else outcome.failed.push({ eventId, error: result.reason });
    });
    return outcome;
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
      firstAttemptLocal: this.config.temporal.firstAttemptLocal,
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
          // DeliveryStatus is set only by an outcome ExecutionStatus does not tell (workflows/delivery.workflow.ts).
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
