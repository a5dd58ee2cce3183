import { ActivityCancellationType, CancellationScope, continueAsNew, isCancellation, proxyActivities } from '@temporalio/workflow';
import { RECOVERY_PAGES_PER_RUN, type RecoveryActivities, type RecoveryWorkflowInput } from '../contract/recovery.js';

/**
 * One bulk recovery = one workflow `recover-<id>`: page after page of matching deliveries, each
 * retried by the activity exactly as `POST …/deliveries/:event_id/retry` does. Between pages it
 * stops if cancelled; every few pages it continues as new, so no recovery is too large.
 */
export async function recoveryWorkflow(input: RecoveryWorkflowInput): Promise<void> {
  const { recoverPage, finishRecovery } = proxyActivities<RecoveryActivities>({
    // A page is up to 500 claims and workflow starts: normally seconds.
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    // Cancel stops the page at its next batch; what it did is counted before the workflow ends.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  try {
    for (let page = 0; page < RECOVERY_PAGES_PER_RUN; page++) {
      const result = await recoverPage({ recoveryId: input.recoveryId, accountId: input.accountId });
      if (result.stopped) return;
      if (!result.more) {
        await finishRecovery({ recoveryId: input.recoveryId, accountId: input.accountId, state: 'completed' });
        return;
      }
    }
  } catch (error) {
    // The API marked it cancelled before cancelling the workflow; this only makes sure of it.
    const state = isCancellation(error) ? 'cancelled' : 'failed';
    await CancellationScope.nonCancellable(() =>
      finishRecovery({ recoveryId: input.recoveryId, accountId: input.accountId, state, error: error instanceof Error ? error.message : String(error) }),
    );
    // Rethrown so the run shows as Canceled or Failed in the Temporal UI.
    throw error;
  }
  await continueAsNew<typeof recoveryWorkflow>(input);
}
