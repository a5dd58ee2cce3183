import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  RECOVERY_CONCURRENT_RETRIES,
  RECOVERY_PAGE_SIZE,
  type FinishRecoveryInput,
  type RecoveryActivities,
  type RecoveryPageInput,
  type RecoveryPageResult,
} from '../../contract/recovery.js';
import type { DeliveryControlService, NewRunResult } from '../deliveries/delivery-control.service.js';
import type { DeliveryRepository } from '../deliveries/delivery.repository.js';
import type { PageCounts, RecoveryRepository } from './recovery.repository.js';

export interface RecoveryActivityDeps {
  recoveries: RecoveryRepository;
  deliveries: DeliveryRepository;
  control: DeliveryControlService;
}

/**
 * The recovery workflow's activities. A page retries each delivery through
 * DeliveryControlService.startNewRun, the very code of `POST …/retry`: the conditional claim is
 * what makes two recoveries over the same deliveries, or a recovery racing a manual retry, send
 * nothing twice. The retried deliveries then pass the traffic gate like any other, so the
 * destination's rate limit and in-flight cap hold without the recovery knowing them.
 */
export function createRecoveryActivities({ recoveries, deliveries, control }: RecoveryActivityDeps): RecoveryActivities {
  return {
    async recoverPage({ recoveryId, accountId }: RecoveryPageInput): Promise<RecoveryPageResult> {
      const progress = await recoveries.progress(accountId, recoveryId);
      if (!progress) throw ApplicationFailure.nonRetryable(`recovery ${recoveryId} no longer exists`, 'RecoveryNotFound');
      if (progress.state !== 'running') return { more: false, stopped: true };

      const filter = { destinationId: progress.destinationId, statuses: progress.statuses, since: progress.since, until: progress.until };
      if (progress.total === null) await recoveries.recordTotal(accountId, recoveryId, await deliveries.countRecoverable(accountId, filter));
      const page = await deliveries.findRecoverable(accountId, filter, progress.cursor, RECOVERY_PAGE_SIZE);
      const counts: PageCounts = { matched: 0, retried: 0, skipped: 0, destinationDeleted: 0 };
      const context = Context.current();
      let done = 0;
      // Batches rather than a sliding window: the heartbeat between them is where a cancel is seen.
      for (let start = 0; start < page.length; start += RECOVERY_CONCURRENT_RETRIES) {
        if (context.cancellationSignal.aborted) break;
        const batch = page.slice(start, start + RECOVERY_CONCURRENT_RETRIES);
        const results = await Promise.all(batch.map(({ eventId }) => control.startNewRun(accountId, eventId)));
        for (const result of results) count(counts, result);
        done += batch.length;
        context.heartbeat(done);
      }
      const last = page[done - 1];
      await recoveries.recordPage(accountId, recoveryId, progress.cursor, last, counts);
      if (context.cancellationSignal.aborted) return { more: false, stopped: true };
      return { more: page.length === RECOVERY_PAGE_SIZE, stopped: false };
    },

    async finishRecovery({ recoveryId, accountId, state, error }: FinishRecoveryInput): Promise<void> {
      await recoveries.finish(accountId, recoveryId, state, error ?? null);
    },
  };
}

function count(counts: PageCounts, result: NewRunResult): void {
  counts.matched += 1;
  if (result === 'started') {
    counts.retried += 1;
    return;
  }
  counts.skipped += 1;
  if (result === 'destination_deleted') counts.destinationDeleted += 1;
}
