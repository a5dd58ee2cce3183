import { setTimeout as sleep } from 'node:timers/promises';

const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 2_000;

export interface DatabaseRetryOptions {
  /** Whether the error means the database could not be reached (the store knows its driver's errors). */
  isUnavailable: (error: unknown) => boolean;
  /** No retry is started that would end after this time (epoch ms). */
  deadlineMs: number;
  /** Called before each wait, so Temporal does not take a waiting attempt for a dead one. */
  heartbeat: () => void;
  onRetry: (error: unknown) => void;
  now?: () => number;
}

/**
 * Runs an idempotent database write until it succeeds, retrying only while the database is
 * unreachable (any other error is thrown at once) and only until the deadline.
 */
export async function retryWhileDatabaseUnavailable<T>(write: () => Promise<T>, options: DatabaseRetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  for (let delayMs = FIRST_RETRY_DELAY_MS; ; delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS)) {
    try {
      return await write();
    } catch (error) {
      if (!options.isUnavailable(error) || now() + delayMs > options.deadlineMs) throw error;
      options.onRetry(error);
      options.heartbeat();
      await sleep(delayMs);
    }
  }
}
