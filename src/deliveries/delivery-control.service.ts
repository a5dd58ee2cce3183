import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryDispatcher, TEMPORAL_CALL_DEADLINE_MS, toDeliveryDispatch } from './delivery-dispatcher.js';
import { FINISHED_DELIVERY_STATUSES, FORCE_RESEND_STATUSES, RETRYABLE_DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import { DeliveryRepository, type DeliveryState } from './delivery.repository.js';
import type { DeliveryActionResponseDto } from './dto/delivery-response.dto.js';

/**
 * What starting a new run of a delivery came to: `refused` when its status did not allow it (already
 * sent, running, or claimed by a concurrent retry), `run_open` when Temporal still had a run of it open.
 */
export type NewRunResult = 'started' | 'refused' | 'destination_deleted' | 'run_open';

/**
 * How long a retry waits for the delivery's previous run to close. The run writes the final status
 * in its last workflow task, so for a moment after a delivery reads `failed` its run is still open:
 * a retry in that moment waits for it rather than answer 409. Longer than that, the run is not
 * closing but stuck, and the retry answers 409 (`run_open`).
 */
const PREVIOUS_RUN_CLOSING_WAIT_MS = 5_000;
const PREVIOUS_RUN_POLL_MS = 100;

/** Operator actions on a delivery: cancel a running one, start a new run of a finished one. */
@Injectable()
export class DeliveryControlService {
  private readonly logger = new Logger(DeliveryControlService.name);

  constructor(
    private readonly deliveries: DeliveryRepository,
    @Inject(Client) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  /**
   * Asks Temporal to cancel the workflow: an attempt in flight is aborted, a wait in backoff ends,
   * and the workflow records `cancelled` itself, so the answer is 202 rather than the final status.
   */
  async cancel(accountId: string, eventId: string): Promise<DeliveryActionResponseDto> {
    const delivery = await this.load(accountId, eventId);
    if (FINISHED_DELIVERY_STATUSES.includes(delivery.status)) {
      throw new DeliveryError(DeliveryErrorCode.AlreadyFinished, `delivery ${eventId} is already ${delivery.status}`);
    }
    try {
      // Bounded like a start: during an outage the SDK would otherwise retry for about 20 s before the 503.
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => this.temporal.workflow.getHandle(delivery.workflowId).cancel());
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      // The run closed between the read and the cancel: report what it ended as.
      const current = await this.load(accountId, eventId);
      throw new DeliveryError(DeliveryErrorCode.AlreadyFinished, `delivery ${eventId} is already ${current.status}`);
    }
    this.logger.log(`cancellation requested for delivery ${eventId}`);
    return { event_id: eventId, status: delivery.status, workflow_id: delivery.workflowId };
  }

  /**
   * Starts a new run for a failed, cancelled or skipped delivery (with `force`, a sent one too):
   * same event_id, same stored body. The conditional claim lets exactly one of several concurrent
   * retries through.
   */
  async retry(accountId: string, eventId: string, { force = false }: { force?: boolean } = {}): Promise<DeliveryActionResponseDto> {
    const delivery = await this.load(accountId, eventId);
    const result = await this.startNewRun(accountId, eventId, force ? FORCE_RESEND_STATUSES : RETRYABLE_DELIVERY_STATUSES);
    switch (result) {
      case 'started':
        this.logger.log(`${force ? 'forced resend' : 'retry'} started for delivery ${eventId}`);
        return { event_id: eventId, status: 'pending', workflow_id: delivery.workflowId };
      case 'refused': {
        const current = await this.load(accountId, eventId);
        const allowed = force ? 'failed, cancelled, skipped or sent' : 'failed, cancelled or skipped';
        const hint = current.status === 'sent' ? ' (a sent delivery is sent again only with "force": true)' : '';
        throw new DeliveryError(DeliveryErrorCode.NotRetryable, `delivery ${eventId} is ${current.status}; only ${allowed} deliveries can be retried${hint}`);
      }
      case 'destination_deleted':
        throw new DeliveryError(DeliveryErrorCode.NotRetryable, `delivery ${eventId} cannot be retried: its destination was deleted`);
      case 'run_open':
        throw new DeliveryError(DeliveryErrorCode.NotRetryable, `delivery ${eventId} still has a run closing; try again in a moment`);
    }
  }

  /**
   * The one way a finished delivery gets a new run, shared by the retry route and bulk recoveries:
   * claim it (`from` → `pending`, conditional, so one claimant wins), then start the run. A claim
   * whose run cannot start is released to the status it had. Says what happened rather than
   * throwing, so a recovery can count it; an outage or a bug still throws.
   */
  async startNewRun(accountId: string, eventId: string, from: readonly DeliveryStatus[] = RETRYABLE_DELIVERY_STATUSES): Promise<NewRunResult> {
    const previous = await this.deliveries.claimForRetry(accountId, eventId, from);
    if (!previous) return 'refused';
    try {
      const toDispatch = await this.deliveries.findToDispatch(accountId, eventId);
      if (!toDispatch) {
        await this.deliveries.releaseRetryClaim(accountId, eventId, previous);
        return 'destination_deleted';
      }
      const dispatch = toDeliveryDispatch(toDispatch, toDispatch.destination, this.config.delivery);
      try {
        await this.dispatcher.startRetry(dispatch);
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        await this.previousRunCloses(dispatch.workflowId);
        await this.dispatcher.startRetry(dispatch);
      }
      return 'started';
    } catch (error) {
      await this.deliveries.releaseRetryClaim(accountId, eventId, previous);
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'run_open';
      throw error;
    }
  }

  /** Waits, at most PREVIOUS_RUN_CLOSING_WAIT_MS, until the workflow's latest run is no longer running. */
  private async previousRunCloses(workflowId: string): Promise<void> {
    const handle = this.temporal.workflow.getHandle(workflowId);
    const deadline = Date.now() + PREVIOUS_RUN_CLOSING_WAIT_MS;
    while (Date.now() < deadline) {
      const description = await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => handle.describe());
      if (description.status.name !== 'RUNNING') return;
      await new Promise((resolve) => setTimeout(resolve, PREVIOUS_RUN_POLL_MS));
    }
  }

  /** Another account's delivery is not found, exactly like one that does not exist: it is never cancelled or retried. */
  private async load(accountId: string, eventId: string): Promise<DeliveryState> {
    const delivery = await this.deliveries.findState(accountId, eventId);
    if (!delivery) throw new DeliveryError(DeliveryErrorCode.NotFound, `delivery ${eventId} not found`);
    return delivery;
  }
}
