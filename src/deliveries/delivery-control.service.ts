import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryDispatcher, toDeliveryDispatch, type DispatchDestinationRow } from './delivery-dispatcher.js';
import { FINISHED_DELIVERY_STATUSES, RETRYABLE_DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import type { DeliveryActionResponseDto } from './dto/delivery-response.dto.js';

interface DeliveryRow {
  event_id: string;
  status: DeliveryStatus;
  canonical: CanonicalEvent;
  target_event: string;
  workflow_id: string;
}

/** Operator actions on a delivery: cancel a running one, start a new run of a finished one. */
@Injectable()
export class DeliveryControlService {
  private readonly logger = new Logger(DeliveryControlService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(Client) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  /**
   * Asks Temporal to cancel the workflow: an attempt in flight is aborted, a wait in backoff ends,
   * and the workflow records `cancelled` itself, so the answer is 202 rather than the final status.
   */
  async cancel(eventId: string): Promise<DeliveryActionResponseDto> {
    const delivery = await this.load(eventId);
    if (FINISHED_DELIVERY_STATUSES.includes(delivery.status)) {
      throw new DeliveryError(DeliveryErrorCode.AlreadyFinished, `delivery ${eventId} is already ${delivery.status}`);
    }
    try {
      await this.temporal.workflow.getHandle(delivery.workflow_id).cancel();
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      // The run closed between the read and the cancel: report what it ended as.
      const current = await this.load(eventId);
      throw new DeliveryError(DeliveryErrorCode.AlreadyFinished, `delivery ${eventId} is already ${current.status}`);
    }
    this.logger.log(`cancellation requested for delivery ${eventId}`);
    return { event_id: eventId, status: delivery.status, workflow_id: delivery.workflow_id };
  }

  /**
   * Starts a new run for a failed or cancelled delivery: same event_id, same stored body.
   * The conditional update lets exactly one of several concurrent retries through.
   */
  async retry(eventId: string): Promise<DeliveryActionResponseDto> {
    const delivery = await this.load(eventId);
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [claimedRows]: [Array<{ previous: DeliveryStatus }>, number] = await this.dataSource.query(
      `UPDATE deliveries d SET status = 'pending', next_attempt_at = NULL, completed_at = NULL, updated_at = now()
         FROM deliveries prior
        WHERE d.event_id = $1 AND prior.event_id = d.event_id AND d.status = ANY($2)
       RETURNING prior.status AS previous`,
      [eventId, RETRYABLE_DELIVERY_STATUSES],
    );
    const claimed = claimedRows[0];
    if (!claimed) {
      const current = await this.load(eventId);
      throw new DeliveryError(
        DeliveryErrorCode.NotRetryable,
        `delivery ${eventId} is ${current.status}; only failed or cancelled deliveries can be retried`,
      );
    }
    const destinations: DispatchDestinationRow[] = await this.dataSource.query(
      `SELECT t.id, t.name, t.timeout_ms, t.retry_policy
         FROM deliveries d JOIN destinations t ON t.id = d.destination_id
        WHERE d.event_id = $1 AND t.deleted_at IS NULL`,
      [eventId],
    );
    try {
      if (!destinations[0]) {
        throw new DeliveryError(DeliveryErrorCode.NotRetryable, `delivery ${eventId} cannot be retried: its destination was deleted`);
      }
      await this.dispatcher.startRetry(
        toDeliveryDispatch(
          { eventId, canonical: delivery.canonical, targetEvent: delivery.target_event },
          destinations[0],
          this.config.delivery,
        ),
      );
    } catch (error) {
      await this.dataSource.query(`UPDATE deliveries SET status = $2 WHERE event_id = $1 AND status = 'pending'`, [eventId, claimed.previous]);
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new DeliveryError(DeliveryErrorCode.NotRetryable, `delivery ${eventId} still has a run closing; try again in a moment`);
      }
      throw error;
    }
    this.logger.log(`retry started for delivery ${eventId}`);
    return { event_id: eventId, status: 'pending', workflow_id: delivery.workflow_id };
  }

  private async load(eventId: string): Promise<DeliveryRow> {
    const [row]: DeliveryRow[] = await this.dataSource.query(
      `SELECT event_id, status, canonical, target_event, workflow_id FROM deliveries WHERE event_id = $1`,
      [eventId],
    );
    if (!row) throw new DeliveryError(DeliveryErrorCode.NotFound, `delivery ${eventId} not found`);
    return row;
  }
}
