import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { DeliveryDispatcher, toDeliveryDispatch } from './delivery-dispatcher.js';
import { DeliveryRepository, type DispatchWindowRule } from './delivery.repository.js';
import { OutboxListener } from './outbox-listener.js';
import { OutboxSignal } from './outbox-signal.js';

/** Deliveries one claim takes: one statement and one `dispatched_at` UPDATE per this many starts. */
export const OUTBOX_BATCH = 200;
/**
 * Twice a batch's start deadline (TEMPORAL_CALL_DEADLINE_MS), so a live dispatcher's claims do not
 * expire under it, and short, because a dispatcher killed mid-batch delays its claims by this much.
 * Should a claim expire anyway, a second start of the same delivery is a no-op (one workflow id per event_id).
 */
const CLAIM_LEASE_SECONDS = 20;
/**
 * The safety net under the wake-ups: a dispatcher also looks at the outbox this often, for
 * notifications lost while its LISTEN connection was down, and for deliveries that waited for
 * room in their destination's dispatch window (a first attempt ending frees room without a wake).
 */
const POLL_MS = 1_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/** What one pass over the outbox did. */
export interface OutboxPass {
  claimed: number;
  started: number;
  failed: number;
}

/**
 * Starts the workflows of deliveries ingest committed to the outbox. Runs in every worker process;
 * any number of them share the outbox safely (see DeliveryRepository.claimOutbox). Woken by
 * ingest's commit (NOTIFY, or in-process), it claims a batch, starts it, marks what Temporal
 * accepted and gives back the rest. While Temporal is down the rows simply stay: the dispatcher
 * backs off and tries again, and ingest keeps accepting events meanwhile.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private readonly window: DispatchWindowRule;
  private running: Promise<void> | undefined;
  private stopped = false;
  private backoffMs = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly signal: OutboxSignal,
    private readonly listener: OutboxListener,
  ) {
    this.window = {
      perInFlightSlot: config.outbox.windowFactor,
      defaultMaxInFlight: config.traffic.maxInFlight,
      defaultRatePerSecond: config.traffic.ratePerSecond,
      minimum: config.outbox.windowMinimum,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.outbox.listen) await this.listener.start();
    this.running = this.run();
  }

  /** Lets the batch in hand finish (its starts are bounded by their deadline), before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.signal.wake();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let pass: OutboxPass | undefined;
      try {
        pass = await this.dispatchOnce();
      } catch (error) {
        this.reportFailure(error);
      }
      if (this.stopped) break;
      if (pass && pass.failed === 0) {
        this.backoffMs = 0;
        // A full batch means more is waiting: claim again at once.
        if (pass.claimed < OUTBOX_BATCH) await this.signal.wait(POLL_MS);
      } else {
        this.backoffMs = Math.min(Math.max(this.backoffMs * 2, BACKOFF_MIN_MS), BACKOFF_MAX_MS);
        await new Promise((resolve) => setTimeout(resolve, this.backoffMs).unref());
      }
    }
  }

  /** Claims one batch, starts it, marks the started and releases the rest. */
  async dispatchOnce(): Promise<OutboxPass> {
    const claimed = await this.deliveries.claimOutbox(OUTBOX_BATCH, CLAIM_LEASE_SECONDS, this.window);
    if (claimed.length === 0) return { claimed: 0, started: 0, failed: 0 };
    const outcome = await this.dispatcher.startAll(claimed.map((delivery) => toDeliveryDispatch(delivery, delivery.destination, this.config.delivery)));
    if (outcome.started.length > 0) await this.deliveries.markDispatched(outcome.started);
    if (outcome.failed.length > 0) {
      await this.deliveries.releaseClaims(outcome.failed.map((failure) => failure.eventId));
      this.reportFailure(outcome.failed[0]!.error, `${outcome.failed.length} of ${claimed.length} delivery workflows could not be started`);
    }
    return { claimed: claimed.length, started: outcome.started.length, failed: outcome.failed.length };
  }

  /**
   * An outage is expected: the rows wait and the next pass retries, so it is a warning. Anything
   * else (Temporal refusing a start as invalid, our own error) would fail every pass: a bug, logged
   * as an error with what Temporal said. Either way nothing is lost; the rows stay in the outbox.
   */
  private reportFailure(error: unknown, what = 'outbox dispatch failed'): void {
    const described = describeTemporalError(error) ?? String(error);
    const next = Math.min(Math.max(this.backoffMs * 2, BACKOFF_MIN_MS), BACKOFF_MAX_MS);
    if (isTemporalUnavailableError(error) || isDatabaseUnavailableError(error)) {
      this.logger.warn(`${what}, retrying in ${next / 1000} s: ${described}`);
    } else {
      this.logger.error(`${what}: ${described}`);
    }
  }
}
