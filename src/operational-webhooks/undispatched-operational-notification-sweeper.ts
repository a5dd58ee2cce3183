import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { OperationalNotificationRepository } from './operational-notification.repository.js';
import { OperationalWebhookDispatcher } from './operational-webhook-dispatcher.js';

const SWEEP_INTERVAL_MS = 15_000;
/** Younger rows may still be between their insert and their own start in notify. */
const UNDISPATCHED_GRACE_SECONDS = 30;
const SWEEP_BATCH = 500;

/**
 * Starts the workflows of operational notifications that were stored but never dispatched: Temporal
 * was unavailable, or the worker died, between the insert and the start. Runs in every worker;
 * starts are idempotent, so concurrent sweeps are harmless.
 */
@Injectable()
export class UndispatchedOperationalNotificationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UndispatchedOperationalNotificationSweeper.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly notifications: OperationalNotificationRepository,
    private readonly dispatcher: OperationalWebhookDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.reportFailure(error)), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** An outage is expected and the next sweep retries; anything else would fail every sweep, a bug. */
  private reportFailure(error: unknown): void {
    const cause = describeTemporalError(error) ?? String(error);
    if (isTemporalUnavailableError(error) || isDatabaseUnavailableError(error)) {
      this.logger.warn(`operational notification sweep failed, retrying in ${SWEEP_INTERVAL_MS / 1000} s: ${cause}`);
    } else {
      this.logger.error(`operational notification sweep failed: ${cause}`);
    }
  }

  /** Dispatches one batch of forgotten notifications, one at a time (a backlog only builds up during an outage); returns how many it found. */
  async sweep(): Promise<number> {
    const forgotten = await this.notifications.findUndispatched(UNDISPATCHED_GRACE_SECONDS, SWEEP_BATCH);
    if (forgotten.length === 0) return 0;
    this.logger.warn(`dispatching ${forgotten.length} stored but undispatched operational notifications`);
    for (const notification of forgotten) await this.dispatcher.dispatch(notification);
    return forgotten.length;
  }
}
