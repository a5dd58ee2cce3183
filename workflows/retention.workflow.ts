import { proxyActivities } from '@temporalio/workflow';
import { RETENTION_RUN_BUDGET_MS, type PurgeResult, type RetentionActivities } from '../contract/retention.js';

/**
 * Started every hour by the retention Schedule: one activity that deletes what is past its
 * account's retention, in small batches, until done or out of budget (the next hour goes on).
 */
export async function retentionWorkflow(): Promise<PurgeResult> {
  const { purgeExpired } = proxyActivities<RetentionActivities>({
    startToCloseTimeout: RETENTION_RUN_BUDGET_MS + 60_000,
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
  });
  return purgeExpired();
}
