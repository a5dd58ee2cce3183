import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { NEXT_ATTEMPT_AT_MEMO } from '../../contract/delivery-activities.js';

/** The delivery workflow's send activity, as Temporal names its pending activity. */
const SEND_ACTIVITY = 'sendWebhook';

/**
 * When Temporal will start the delivery's next attempt, read from the workflow rather than
 * predicted: the pending send activity's `nextAttemptScheduleTime`, which the server sets exactly
 * while the activity waits in backoff (its own backoff, or a Retry-After given as nextRetryDelay),
 * or, after a failed local first attempt, the end of the workflow's timer (its memo).
 * Null while an attempt runs, when no retry follows (attempts or retry window used up), and once
 * the run closed or is gone. Other errors, Temporal being unreachable among them, are thrown.
 */
export async function readNextAttemptAt(handle: Pick<WorkflowHandle, 'describe'>): Promise<Date | null> {
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  if (description.status.name !== 'RUNNING') return null;
  const pending = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === SEND_ACTIVITY);
  if (pending) {
    const next = pending.nextAttemptScheduleTime;
    if (!next?.seconds) return null;
    return new Date(Number(next.seconds) * 1000 + Math.floor((next.nanos ?? 0) / 1_000_000));
  }
  // Between a failed local first attempt and its retry the workflow waits on a timer, whose end it
  // wrote in the memo. Once the retry is scheduled the pending activity above tells instead.
  const waitsUntil = description.memo?.[NEXT_ATTEMPT_AT_MEMO];
  return typeof waitsUntil === 'number' && waitsUntil > Date.now() ? new Date(waitsUntil) : null;
}
