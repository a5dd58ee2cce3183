import { Context } from '@temporalio/activity';
import { RETENTION_BATCH_SIZE, RETENTION_RUN_BUDGET_MS, type PurgeResult, type RetentionActivities } from '../../contract/retention.js';
import type { DeliveryRepository } from '../deliveries/delivery.repository.js';
import type { RecoveryRepository } from '../recoveries/recovery.repository.js';

export interface RetentionActivityDeps {
  deliveries: DeliveryRepository;
  recoveries: RecoveryRepository;
  /** RETENTION_DAYS: for accounts that set no retention_days of their own. */
  retentionDays: number;
  now?: () => number;
}

/**
 * Deliveries (with their attempts) first, then the events left without any, then finished
 * recoveries: batch after batch, each its own short statement, heartbeating between them.
 */
export function createRetentionActivities({ deliveries, recoveries, retentionDays, now = Date.now }: RetentionActivityDeps): RetentionActivities {
  return {
    async purgeExpired(): Promise<PurgeResult> {
      const deadline = now() + RETENTION_RUN_BUDGET_MS;
      const result: PurgeResult = { deliveries: 0, events: 0, recoveries: 0, incomplete: false };
      const drain = async (purge: () => Promise<number>, field: 'deliveries' | 'events' | 'recoveries'): Promise<boolean> => {
        for (;;) {
          if (now() > deadline) return false;
          const removed = await purge();
          result[field] += removed;
          Context.current().heartbeat(result);
          if (removed < RETENTION_BATCH_SIZE) return true;
        }
      };
      result.incomplete = !(
        (await drain(() => deliveries.purgeExpiredDeliveries(retentionDays, RETENTION_BATCH_SIZE), 'deliveries')) &&
        (await drain(() => deliveries.purgeExpiredEvents(retentionDays, RETENTION_BATCH_SIZE), 'events')) &&
        (await drain(() => recoveries.purgeFinished(retentionDays, RETENTION_BATCH_SIZE), 'recoveries'))
      );
      Context.current().log.info('retention purge', { ...result });
      return result;
    },
  };
}
