import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { readNextAttemptAt } from '../temporal/next-attempt-time.js';
import { isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { deliveryWorkflowId } from './delivery-dispatcher.js';
import { decodeDeliveryCursor, encodeDeliveryCursor, type DeliveryCursor } from './delivery-cursor.js';
import type { Delivery } from './delivery.entity.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { DeliveryDetailDto, DeliveryDto } from './dto/delivery-response.dto.js';
import { DEFAULT_PAGE_SIZE } from '../common/page-query.dto.js';
import type { DeliveryPageDto, ListDeliveriesQueryDto } from './dto/list-deliveries.dto.js';

/** Workflows described at once when a page shows several retrying deliveries. */
const MAX_CONCURRENT_DESCRIBES = 16;
/** How long a read waits for Temporal before showing next_attempt_at as unknown. */
const DESCRIBE_DEADLINE_MS = 2_000;

@Injectable()
export class DeliveriesService {
  private readonly logger = new Logger(DeliveriesService.name);

  constructor(
    private readonly deliveries: DeliveryRepository,
    @Inject(Client) private readonly temporal: Client,
  ) {}

  /** The account's deliveries, newest first, filtered, one keyset page at a time. */
  async list(accountId: string, query: ListDeliveriesQueryDto): Promise<DeliveryPageDto> {
    let cursor: DeliveryCursor | undefined;
    if (query.cursor !== undefined) {
      cursor = decodeDeliveryCursor(query.cursor);
      if (!cursor) throw new DeliveryError(DeliveryErrorCode.InvalidCursor, 'cursor is malformed: pass next_cursor from a previous page unchanged');
    }
    const page = await this.deliveries.page(
      accountId,
      {
        destinationId: query.destination_id,
        status: query.status,
        canonical: query.canonical,
        createdAfter: query.created_after,
        createdBefore: query.created_before,
      },
      cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const nextAttempts = await this.nextAttemptTimes(page.deliveries);
    return {
      items: page.deliveries.map((delivery) => toDeliveryDto(delivery, nextAttempts.get(delivery.eventId) ?? null)),
      next_cursor: page.next ? encodeDeliveryCursor(page.next) : null,
    };
  }

  /** Another account's delivery is not found, exactly like one that does not exist. */
  async get(accountId: string, eventId: string): Promise<DeliveryDetailDto> {
    const found = await this.deliveries.findWithAttempts(accountId, eventId);
    if (!found) throw new DeliveryError(DeliveryErrorCode.NotFound, `delivery ${eventId} not found`);
    const { delivery, attempts } = found;
    return {
      ...toDeliveryDto(delivery, (await this.nextAttemptTimes([delivery])).get(eventId) ?? null),
      body: JSON.parse(delivery.body) as Record<string, unknown>,
      attempts: attempts.map((attempt) => ({
        attempt: attempt.attempt,
        started_at: attempt.startedAt.toISOString(),
        duration_ms: attempt.durationMs,
        status_code: attempt.statusCode,
        error: attempt.error,
        response_body: attempt.responseBody,
        request: attempt.requestLine,
      })),
    };
  }

  /**
   * When Temporal will run the next attempt of each retrying delivery, read from its workflow: the
   * server's schedule is the truth, where the activity could only predict it. A delivery in any other
   * status has none. While Temporal cannot be reached the time is unknown (null): the read answers anyway.
   */
  private async nextAttemptTimes(deliveries: Delivery[]): Promise<Map<string, Date | null>> {
    const retrying = deliveries.filter((delivery) => delivery.status === 'retrying');
    const times = new Map<string, Date | null>();
    for (let start = 0; start < retrying.length; start += MAX_CONCURRENT_DESCRIBES) {
      const batch = retrying.slice(start, start + MAX_CONCURRENT_DESCRIBES);
      await Promise.all(
        batch.map(async ({ eventId }) => {
          try {
            const handle = this.temporal.workflow.getHandle(deliveryWorkflowId(eventId));
            times.set(eventId, await this.temporal.connection.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => readNextAttemptAt(handle)));
          } catch (error) {
            if (!isTemporalUnavailableError(error)) throw error;
            this.logger.warn(`next attempt time of ${eventId} unknown: Temporal unavailable`);
            times.set(eventId, null);
          }
        }),
      );
    }
    return times;
  }
}

function toDeliveryDto(delivery: Delivery, nextAttemptAt: Date | null): DeliveryDto {
  return {
    event_id: delivery.eventId,
    destination_id: delivery.destinationId,
    canonical: delivery.canonical,
    event: delivery.targetEvent,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    next_attempt_at: nextAttemptAt?.toISOString() ?? null,
    filter: delivery.filterDecision,
    workflow_id: delivery.workflowId,
    test: delivery.test,
    created_at: delivery.createdAt.toISOString(),
    completed_at: delivery.completedAt?.toISOString() ?? null,
  };
}
