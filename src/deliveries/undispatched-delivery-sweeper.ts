import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryDispatcher, toDeliveryDispatch, type DispatchDestinationRow } from './delivery-dispatcher.js';

const SWEEP_INTERVAL_MS = 15_000;
/** Younger rows may still be mid-ingest; their own request dispatches them. */
const UNDISPATCHED_GRACE = '30 seconds';
const SWEEP_BATCH = 500;

interface UndispatchedRow extends DispatchDestinationRow {
  event_id: string;
  canonical: CanonicalEvent;
  target_event: string;
}

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
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.logger.warn(`dispatch sweep failed: ${String(error)}`)), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Dispatches one batch of forgotten deliveries; returns how many it found. */
  async sweep(): Promise<number> {
    const rows: UndispatchedRow[] = await this.dataSource.query(
      `SELECT d.event_id, d.canonical, d.target_event, t.id, t.name, t.timeout_ms, t.retry_policy
         FROM deliveries d JOIN destinations t ON t.id = d.destination_id
        WHERE d.dispatched_at IS NULL AND d.created_at < now() - interval '${UNDISPATCHED_GRACE}'
        ORDER BY d.created_at
        LIMIT ${SWEEP_BATCH}`,
    );
    if (rows.length === 0) return 0;
    this.logger.warn(`dispatching ${rows.length} stored but undispatched deliveries`);
    await this.dispatcher.dispatch(
      rows.map((row) => toDeliveryDispatch({ eventId: row.event_id, canonical: row.canonical, targetEvent: row.target_event }, row, this.config.delivery)),
    );
    return rows.length;
  }
}
