import { Injectable } from '@nestjs/common';

/** The PostgreSQL channel notified after ingest's commits (OutboxNotifier); every dispatcher LISTENs on it. */
export const OUTBOX_CHANNEL = 'delivery_outbox';

/**
 * Wakes this process's outbox dispatcher. Ingest and test events wake it after their commit (OutboxNotifier),
 * so a process running API and worker together (`npm run dev`, the tests) dispatches without a
 * round trip through PostgreSQL; the LISTEN connection calls it for commits of other processes.
 */
@Injectable()
export class OutboxSignal {
  private waiters: Array<() => void> = [];
  private pending = false;

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    // A wake while the dispatcher is busy is kept for its next wait, so none is lost between a claim and the wait.
    if (waiters.length === 0) this.pending = true;
    for (const resolve of waiters) resolve();
  }

  /** Resolves at the next wake (at once if one came since the last wait), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      }, timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }
}
