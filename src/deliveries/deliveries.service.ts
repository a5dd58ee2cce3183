import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { Delivery } from './delivery.entity.js';
import { decodeDeliveryCursor, encodeDeliveryCursor } from './delivery-cursor.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import type { DeliveryDetailDto, DeliveryDto } from './dto/delivery-response.dto.js';
import { DEFAULT_PAGE_SIZE, type DeliveryPageDto, type ListDeliveriesQueryDto } from './dto/list-deliveries.dto.js';

@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
  ) {}

  /** Newest first, filtered, one keyset page at a time. */
  async list(query: ListDeliveriesQueryDto): Promise<DeliveryPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const builder = this.deliveries
      .createQueryBuilder('d')
      .addSelect('d.created_at::text', 'cursor_created_at')
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.event_id', 'DESC')
      .limit(limit + 1);
    if (query.destination_id) builder.andWhere('d.destination_id = :destinationId', { destinationId: query.destination_id });
    if (query.status) builder.andWhere('d.status = :status', { status: query.status });
    if (query.canonical) builder.andWhere('d.canonical = :canonical', { canonical: query.canonical });
    if (query.created_after) builder.andWhere('d.created_at >= :after', { after: query.created_after });
    if (query.created_before) builder.andWhere('d.created_at < :before', { before: query.created_before });
    if (query.cursor !== undefined) {
      const cursor = decodeDeliveryCursor(query.cursor);
      if (!cursor) throw new DeliveryError(DeliveryErrorCode.InvalidCursor, 'cursor is malformed: pass next_cursor from a previous page unchanged');
      builder.andWhere('(d.created_at, d.event_id) < (:cursorCreatedAt::timestamptz, :cursorEventId)', {
        cursorCreatedAt: cursor.createdAt,
        cursorEventId: cursor.eventId,
      });
    }
    const { entities, raw } = await builder.getRawAndEntities<{ cursor_created_at: string }>();
    const page = entities.slice(0, limit);
    const last = page.at(-1);
    const hasMore = entities.length > limit;
    return {
      items: page.map(toDeliveryDto),
      next_cursor: hasMore && last ? encodeDeliveryCursor({ createdAt: raw[page.length - 1]!.cursor_created_at, eventId: last.eventId }) : null,
    };
  }

  async get(eventId: string): Promise<DeliveryDetailDto> {
    const delivery = await this.deliveries.findOneBy({ eventId });
    if (!delivery) throw new DeliveryError(DeliveryErrorCode.NotFound, `delivery ${eventId} not found`);
    const attempts = await this.attempts.find({ where: { eventId }, order: { startedAt: 'ASC', attempt: 'ASC' } });
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
