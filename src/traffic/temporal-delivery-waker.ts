import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { RESUME_DELIVERY_SIGNAL } from '../../contract/delivery-activities.js';
import type { DeliveryWaker } from '../../contract/traffic-gate.js';

/** Signals at once per wake: a recovery wakes at most RECOVERY_WAKE_BATCH. */
const MAX_CONCURRENT_SIGNALS = 16;

/** Wakes held deliveries with the resume signal; a run that ended meanwhile needs nothing. */
@Injectable()
export class TemporalDeliveryWaker implements DeliveryWaker {
  constructor(@Inject(Client) private readonly temporal: Client) {}

  async wake(workflowIds: string[]): Promise<void> {
    for (let start = 0; start < workflowIds.length; start += MAX_CONCURRENT_SIGNALS) {
      await Promise.all(
        workflowIds.slice(start, start + MAX_CONCURRENT_SIGNALS).map(async (workflowId) => {
          try {
            await this.temporal.workflow.getHandle(workflowId).signal(RESUME_DELIVERY_SIGNAL);
          } catch (error) {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          }
        }),
      );
    }
  }
}
