/**
 * A bulk recovery, as its workflow (`recover-<id>`) and its activities share it. The workflow
 * carries ids only: the filter and the keyset position live in the recovery's row, so a page whose
 * result was lost (the worker died after recording it) is never counted twice.
 */

/** The statuses a recovery may retry, and its default: everything that ended without being sent. */
export const RECOVERABLE_STATUSES = ['failed', 'skipped', 'cancelled'] as const;
export type RecoverableStatus = (typeof RECOVERABLE_STATUSES)[number];

export const RECOVERY_STATES = ['running', 'completed', 'cancelled', 'failed'] as const;
export type RecoveryState = (typeof RECOVERY_STATES)[number];

/** Deliveries one activity call reads and retries: one keyset page. */
export const RECOVERY_PAGE_SIZE = 500;
/** Retries one activity call has in flight at once, so a recovery never floods Temporal with starts. */
export const RECOVERY_CONCURRENT_RETRIES = 50;
/** Pages per workflow run before continue-as-new: keeps each run's history short, whatever the total. */
export const RECOVERY_PAGES_PER_RUN = 2;

export interface RecoveryWorkflowInput {
  recoveryId: string;
  accountId: string;
}

export interface RecoveryPageInput {
  recoveryId: string;
  accountId: string;
}

/** `more`: another page may follow; `stopped`: the recovery was cancelled, nothing more is done. */
export interface RecoveryPageResult {
  more: boolean;
  stopped: boolean;
}

export interface FinishRecoveryInput {
  recoveryId: string;
  accountId: string;
  state: Exclude<RecoveryState, 'running'>;
  error?: string;
}

export interface RecoveryActivities {
  recoverPage(input: RecoveryPageInput): Promise<RecoveryPageResult>;
  finishRecovery(input: FinishRecoveryInput): Promise<void>;
}

export function recoveryWorkflowId(recoveryId: string): string {
  return `recover-${recoveryId}`;
}
