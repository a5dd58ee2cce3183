/** The retention purge, as its Schedule, workflow and activity share it (README "Retention"). */

/** Rows one DELETE removes at most: each statement locks only its own batch, briefly. */
export const RETENTION_BATCH_SIZE = 1_000;
/** How long one purge runs before it leaves the rest to the next hour: no run overlaps the next. */
export const RETENTION_RUN_BUDGET_MS = 10 * 60_000;

export interface PurgeResult {
  deliveries: number;
  events: number;
  recoveries: number;
  /** The budget ran out with rows left: the next run goes on. */
  incomplete: boolean;
}

export interface RetentionActivities {
  purgeExpired(): Promise<PurgeResult>;
}

/** One Schedule per deployment (task queue): deployments sharing a namespace each purge their own database. */
export function retentionScheduleId(taskQueue: string): string {
  return `xtracker-retention-${taskQueue}`;
}
