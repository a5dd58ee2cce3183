import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { RECOVERY_CONCURRENT_RETRIES, RECOVERY_PAGE_SIZE } from '../../contract/recovery.js';
import type { DeliveryControlService, NewRunResult } from '../deliveries/delivery-control.service.js';
import type { DeliveryCursor } from '../deliveries/delivery-cursor.js';
import type { DeliveryRepository } from '../deliveries/delivery.repository.js';
import { createRecoveryActivities } from './recovery.activities.js';
import type { PageCounts, RecoveryProgress, RecoveryRepository } from './recovery.repository.js';

function page(size: number): DeliveryCursor[] {
  return Array.from({ length: size }, (_, index) => ({ eventId: `e${String(index).padStart(4, '0')}`, createdAt: '2026-12-01 00:00:00+00' }));
}

/** Fakes of the two repositories and the control service: what a page reads, does and records. */
function setup(options: { rows: DeliveryCursor[]; results?: (eventId: string) => NewRunResult; state?: RecoveryProgress['state'] }) {
  const recorded: Array<{ from: DeliveryCursor | undefined; to: DeliveryCursor | undefined; counts: PageCounts }> = [];
  const started: string[] = [];
  const progress: RecoveryProgress = { state: options.state ?? 'running', destinationId: null, since: '2026-01-01', until: null, statuses: ['failed'], cursor: undefined, total: 7 };
  const recoveries = {
    progress: async () => progress,
    recordTotal: async () => undefined,
    recordPage: async (_a: string, _id: string, from: DeliveryCursor | undefined, to: DeliveryCursor | undefined, counts: PageCounts) => {
      recorded.push({ from, to, counts });
      return true;
    },
  } as unknown as RecoveryRepository;
  const deliveries = { findRecoverable: async () => options.rows } as unknown as DeliveryRepository;
  const control = {
    startNewRun: async (_accountId: string, eventId: string) => {
      started.push(eventId);
      return options.results?.(eventId) ?? 'started';
    },
  } as unknown as DeliveryControlService;
  return { activities: createRecoveryActivities({ recoveries, deliveries, control }), recorded, started };
}

describe('recoverPage', () => {
  it('counts every delivery of the page as retried or skipped, deleted destinations among the skipped, and moves the cursor to the last', async () => {
    const rows = page(6);
    const results: Record<string, NewRunResult> = { e0001: 'refused', e0002: 'run_open', e0003: 'destination_deleted' };
    const { activities, recorded } = setup({ rows, results: (eventId) => results[eventId] ?? 'started' });
    const result = await new MockActivityEnvironment().run(activities.recoverPage, { recoveryId: 'r', accountId: 'a' });
    expect(result).toEqual({ more: false, stopped: false });
    expect(recorded).toEqual([{ from: undefined, to: rows[5], counts: { matched: 6, retried: 3, skipped: 3, destinationDeleted: 1 } }]);
  });

  it('asks for another page when this one was full', async () => {
    const { activities } = setup({ rows: page(RECOVERY_PAGE_SIZE) });
    expect(await new MockActivityEnvironment().run(activities.recoverPage, { recoveryId: 'r', accountId: 'a' })).toEqual({ more: true, stopped: false });
  });

  it('does nothing for a recovery that is no longer running', async () => {
    const { activities, started, recorded } = setup({ rows: page(3), state: 'cancelled' });
    expect(await new MockActivityEnvironment().run(activities.recoverPage, { recoveryId: 'r', accountId: 'a' })).toEqual({ more: false, stopped: true });
    expect(started).toEqual([]);
    expect(recorded).toEqual([]);
  });

  it('stops at the next batch once cancelled, and records what it did', async () => {
    const environment = new MockActivityEnvironment();
    const rows = page(RECOVERY_CONCURRENT_RETRIES * 3);
    const { activities, started, recorded } = setup({
      rows,
      results: (eventId) => {
        if (eventId === rows[0]!.eventId) environment.cancel();
        return 'started';
      },
    });
    const result = await environment.run(activities.recoverPage, { recoveryId: 'r', accountId: 'a' });
    expect(result).toEqual({ more: false, stopped: true });
    expect(started).toHaveLength(RECOVERY_CONCURRENT_RETRIES);
    expect(recorded).toEqual([{ from: undefined, to: rows[RECOVERY_CONCURRENT_RETRIES - 1], counts: { matched: 50, retried: 50, skipped: 0, destinationDeleted: 0 } }]);
  });
});
