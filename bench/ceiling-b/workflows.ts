import { ActivityCancellationType, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { DELIVERY_STATUS } from '../../contract/search-attributes.js';

/** Ceiling B: the least a delivery can cost in Temporal, one workflow running one no-op activity. */
const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

export async function noopWorkflow(): Promise<void> {
  await noop();
}

/**
 * Diagnostic only (not part of `npm run bench`): the no-op activity with the delivery workflow's
 * activity options and its DeliveryStatus upsert, to tell what the workflow's shape costs Temporal.
 */
export async function deliveryShapedNoopWorkflow(options: { heartbeat: boolean; upsert: boolean }): Promise<void> {
  const { noop: shaped } = proxyActivities<{ noop(): Promise<void> }>({
    startToCloseTimeout: 25_000,
    scheduleToCloseTimeout: 259_200_000,
    heartbeatTimeout: options.heartbeat ? 10_000 : undefined,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: 10_000, backoffCoefficient: 2, maximumInterval: 3_600_000 },
  });
  await shaped();
  if (options.upsert) upsertSearchAttributes([{ key: DELIVERY_STATUS, value: 'sent' }]);
}
