import { Injectable } from '@nestjs/common';
import { decodeDeliveryCursor, encodeDeliveryCursor, type DeliveryCursor } from './delivery-cursor.js';
import type { Delivery } from './delivery.entity.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { DeliveryDetailDto, DeliveryDto } from './dto/delivery-response.dto.js';
import { DEFAULT_PAGE_SIZE, type DeliveryPageDto, type ListDeliveriesQueryDto } from './dto/list-deliveries.dto.js';

@Injectable()
export class DeliveriesService {
  constructor(private readonly deliveries: DeliveryRepository) {}

  /** Newest first, filtered, one keyset page at a time. */
  async list(query: ListDeliveriesQueryDto): Promise<DeliveryPageDto> {
    let cursor: DeliveryCursor | undefined;
    if (query.cursor !== undefined) {
      cursor = decodeDeliveryCursor(query.cursor);
      if (!cursor) throw new DeliveryError(DeliveryErrorCode.InvalidCursor, 'cursor is malformed: pass next_cursor from a previous page unchanged');
    }
    const page = await this.deliveries.page(
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
    return { items: page.deliveries.map(toDeliveryDto), next_cursor: page.next ? encodeDeliveryCursor(page.next) : null };
  }

  async get(eventId: string): Promise<DeliveryDetailDto> {
    const found = await this.deliveries.findWithAttempts(eventId);
    if (!found) throw new DeliveryError(DeliveryErrorCode.NotFound, `delivery ${eventId} not found`);
    const { delivery, attempts } = found;
    return {
      ...toDeliveryDto(delivery),
      body: JSON.parse(delivery.body) as Record<string, unknown>,
      attempts: attempts.map((attempt) => ({
        attempt: attempt.attempt,
        started_at: attempt.startedAt.toISOString(),
        duration_ms: attempt.durationMs,
        status_code: attempt.statusCode,
        error: attempt.error,
        response_body: attempt.responseBody,
      })),
    };
  }
}

function toDeliveryDto(delivery: Delivery): DeliveryDto {
  return {
    event_id: delivery.eventId,
    destination_id: delivery.destinationId,
    canonical: delivery.canonical,
    event: delivery.targetEvent,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    next_attempt_at: delivery.status === 'retrying' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    workflow_id: delivery.workflowId,
    created_at: delivery.createdAt.toISOString(),
    completed_at: delivery.completedAt?.toISOString() ?? null,
  };
}
