import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository.js';
import { OutboxSignal } from './outbox-signal.js';

/**
 * What ingest and test events call once their rows are committed: this process's dispatcher is
 * woken directly, every other process's through a NOTIFY that dispatchers LISTEN for.
 *
 * The NOTIFY is sent after the commit, in a statement of its own, and at most one at a time per
 * process: commits that come while one is in flight are covered by a single NOTIFY after it. So
 * ingest never waits on PostgreSQL's NOTIFY lock (which serialises the commits of every notifying
 * transaction in the database) and a burst of ingests costs a few NOTIFYs, not one each. A NOTIFY
 * that fails or is lost costs latency only: dispatchers also look at the outbox every second.
 */
@Injectable()
export class OutboxNotifier implements OnApplicationShutdown {
  private readonly logger = new Logger(OutboxNotifier.name);
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly signal: OutboxSignal,
  ) {}

  committed(): void {
    this.signal.wake();
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.notifyUntilCaughtUp().finally(() => {
      this.inFlight = undefined;
    });
  }

  /** Resolves once no NOTIFY is owed. */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** A NOTIFY in flight finishes before the connection pool closes. */
  async onApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  private async notifyUntilCaughtUp(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.deliveries.notifyDispatchers();
      } catch (error) {
        // The rows are committed; the dispatchers' poll finds them within a second.
        this.logger.warn(`outbox NOTIFY failed (dispatchers will find the rows on their next poll): ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    } while (this.again);
  }
}
