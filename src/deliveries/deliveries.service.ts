import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { Delivery } from './delivery.entity.js';
import { DeliveryError, DeliveryErrorCode } from './delivery.errors.js';
import type { DeliveryDetailDto, DeliveryDto } from './dto/delivery-response.dto.js';

@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
  ) {}

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
