import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { DeliveryDispatcher, toDeliveryDispatch } from './delivery-dispatcher.js';
import { DeliveryError } from './delivery.errors.js';
import { DeliveryRepository } from './delivery.repository.js';

const SWEEP_INTERVAL_MS = 15_000;
/** Younger rows may still be mid-ingest; their own request dispatches them. */
const UNDISPATCHED_GRACE_SECONDS = 30;
const SWEEP_BATCH = 500;

/**
 * Starts the workflows of deliveries that were stored but never dispatched: the API died, or
 * Temporal was down, between the commit and the workflow start, and the producer did not send the
 * event again. Runs in every worker; starts are idempotent, so concurrent sweeps are harmless.
 */
@Injectable()
export class UndispatchedDeliverySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UndispatchedDeliverySweeper.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliveries: DeliveryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.reportFailure(error)), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** An outage is expected and the next sweep retries; anything else would fail every sweep, a bug. */
  private reportFailure(error: unknown): void {
    if (isTemporalUnavailableError(error) || isDatabaseUnavailableError(error) || error instanceof DeliveryError) {
      this.logger.warn(`dispatch sweep failed, retrying in ${SWEEP_INTERVAL_MS / 1000} s: ${describeTemporalError(error) ?? String(error)}`);
    } else {
      this.logger.error(`dispatch sweep failed: ${describeTemporalError(error) ?? String(error)}`);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Dispatches one batch of forgotten deliveries; returns how many it found. */
  async sweep(): Promise<number> {
    const forgotten = await this.deliveries.findUndispatched(UNDISPATCHED_GRACE_SECONDS, SWEEP_BATCH);
    if (forgotten.length === 0) return 0;
    this.logger.warn(`dispatching ${forgotten.length} stored but undispatched deliveries`);
    await this.dispatcher.dispatch(forgotten.map((delivery) => toDeliveryDispatch(delivery, delivery.destination, this.config.delivery)));
    return forgotten.length;
  }
}
