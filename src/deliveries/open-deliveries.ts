import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { RESUME_DELIVERY_SIGNAL } from '../../contract/delivery-activities.js';
import { TEMPORAL_CALL_DEADLINE_MS } from './delivery-dispatcher.js';

/** Workflow calls kept in flight at once when acting on all of an account's deliveries. */
const MAX_CONCURRENT_CALLS = 16;

/**
 * Acts on every running delivery workflow of one account, found through Temporal's visibility
 * (`AccountId` search attribute). Visibility trails a start by a moment, so a workflow started
 * just before may be missed: each caller says why that is harmless for its action.
 */
@Injectable()
export class OpenDeliveries {
  private readonly logger = new Logger(OpenDeliveries.name);

  constructor(@Inject(Client) private readonly temporal: Client) {}

  /**
   * Cancels them, before the account's rows are deleted. A workflow this misses finds its delivery
   * gone at its next attempt and ends without sending (DeliveryNotFound).
   */
  cancelAll(accountId: string): Promise<number> {
    return this.forEachRunning(accountId, undefined, 'cancel', async (workflowId) => {
      await this.temporal.workflow.getHandle(workflowId).cancel();
    });
  }

  /**
   * Wakes the ones held while the account was disabled, so they resume at once; one this misses
   * resumes at its next check (at most ten minutes later).
   */
  wake(accountId: string): Promise<number> {
    return this.forEachRunning(accountId, undefined, 'wake', (workflowId) => this.temporal.workflow.getHandle(workflowId).signal(RESUME_DELIVERY_SIGNAL));
  }

  /**
   * Wakes the running deliveries of one destination (resumed, or enabled again), so held ones ask
   * for admission at once; one this misses looks again at its next check (at most ten minutes later).
   */
  wakeDestination(accountId: string, destinationId: string): Promise<number> {
    return this.forEachRunning(accountId, destinationId, 'wake', (workflowId) => this.temporal.workflow.getHandle(workflowId).signal(RESUME_DELIVERY_SIGNAL));
  }

  private async forEachRunning(accountId: string, destinationId: string | undefined, action: string, act: (workflowId: string) => Promise<void>): Promise<number> {
    // Destination ids are UUIDs (checked by the route), account ids [A-Za-z0-9._:-]: neither can end a quoted string.
    const ofDestination = destinationId === undefined ? '' : ` AND DestinationId = "${destinationId}"`;
    const query = `AccountId = "${accountId}"${ofDestination} AND ExecutionStatus = "Running" AND WorkflowType = "deliveryWorkflow"`;
    let count = 0;
    let batch: Promise<void>[] = [];
    // Account ids are [A-Za-z0-9._:-]: nothing in them can end the quoted string of the query.
    for await (const execution of this.temporal.workflow.list({ query })) {
      batch.push(this.tolerateClosed(() => act(execution.workflowId)));
      count += 1;
      if (batch.length >= MAX_CONCURRENT_CALLS) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    this.logger.log(`${action}: ${count} running deliveries of account ${accountId}${destinationId === undefined ? '' : `, destination ${destinationId}`}`);
    return count;
  }

  /** A run that closed between the listing and the call needs nothing more. */
  private async tolerateClosed(call: () => Promise<void>): Promise<void> {
    try {
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, call);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
}
