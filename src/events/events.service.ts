import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { TenantAccountContext } from '../common/tenant-account.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TenantDatabase } from '../database/tenant-database.js';
import { deliveryWorkflowId } from '../deliveries/delivery-dispatcher.js';
import type { DeliveryStatus } from '../deliveries/delivery-status.js';
import { DeliveryRepository, type NewEvent } from '../deliveries/delivery.repository.js';
import { OutboxNotifier } from '../deliveries/outbox-notifier.js';
import { destinationLimitOf } from '../destinations/destination-limit.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import type { IngestEventDto, IngestEventResponseDto } from './dto/event.dto.js';
import { EventError, EventErrorCode } from './event.errors.js';
import { deliveryEventId } from './event-id.js';
import { applyRoutingFilter } from './routing-filter.js';
import { emptyClickContext, serializeWebhookBody } from './webhook-body.js';

/** A delivery as ingest answers it. */
interface PlannedDelivery {
  eventId: string;
  destinationId: string;
  targetEvent: string;
  status: DeliveryStatus;
}

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenant: TenantDatabase,
    private readonly destinations: DestinationRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly outbox: OutboxNotifier,
  ) {}

  /**
   * Stores the account's event and one delivery per matched destination of the account atomically,
   * in the outbox the dispatchers start workflows from. The answer is 202 once the commit is done:
   * what it lists is durable and will be delivered, whether Temporal is up or not.
   */
  async ingest(account: TenantAccountContext, dto: IngestEventDto, idempotencyKeyHeader: string | undefined): Promise<IngestEventResponseDto> {
    const idempotencyKey = this.idempotencyKey(dto.id, idempotencyKeyHeader);
    const data = this.eventData(dto);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([dto.canonical, dto.uid, dto.occurred_at_ms ?? null, data]))
      .digest('hex');
    const occurredAtMs = dto.occurred_at_ms ?? Date.now();

    const planned = await this.storeEvent(account, { idempotencyKey, fingerprint, canonical: dto.canonical, uid: dto.uid, occurredAtMs, data });
    this.outbox.committed();

    return {
      id: idempotencyKey,
      deliveries: planned.map(({ eventId, destinationId, targetEvent, status }) => ({
        event_id: eventId,
        destination_id: destinationId,
        event: targetEvent,
        status,
      })),
    };
  }

  private idempotencyKey(bodyId: string | undefined, headerKey: string | undefined): string {
    const header = headerKey?.trim() || undefined;
    if (bodyId !== undefined && header !== undefined && bodyId !== header) {
      throw new EventError(EventErrorCode.IdempotencyKeyConflict, 'id and the Idempotency-Key header differ; send one or make them equal');
    }
    if (header !== undefined && (header.length > 255 || !/^[\x21-\x7e]+$/.test(header))) {
      throw new EventError(EventErrorCode.IdempotencyKeyConflict, 'Idempotency-Key must be 1-255 printable ASCII characters without spaces');
    }
    return bodyId ?? header ?? randomUUID();
  }

  private eventData(dto: IngestEventDto): Record<string, unknown> {
    if (dto.canonical === 'deposit' && (dto.data?.value === undefined || dto.data.currency === undefined)) {
      throw new EventError(EventErrorCode.DepositDataMissing, 'deposit requires data.value (decimal string) and data.currency (ISO 4217)');
    }
    // Fixed key order: the stored body is the one sent on every attempt.
    const data: Record<string, unknown> = {};
    if (dto.data?.value !== undefined) data.value = dto.data.value;
    if (dto.data?.currency !== undefined) data.currency = dto.data.currency;
    return data;
  }

  /**
   * Two statements in one tenant transaction of the account: one read (the account's click and its
   * matching destinations together), then one write that stores the event and all its deliveries.
   * A repeated id stores nothing and is answered from what the first request stored. The fan-out is
   * bounded by the account's destination limit.
   */
  private storeEvent(account: TenantAccountContext, event: NewEvent): Promise<PlannedDelivery[]> {
    const fanOutLimit = destinationLimitOf(account, this.config);
    return this.tenant.run(account.id, async (manager) => {
      const matched = await this.destinations.matchEvent(account.id, event.canonical, event.uid, fanOutLimit, manager);
      if (matched.beyondLimit) {
        this.logger.warn(`account ${account.id}: a ${event.canonical} event matches more than ${fanOutLimit} destinations; the oldest ${fanOutLimit} get it`);
      }
      const click = matched.click ?? emptyClickContext(event.uid);
      const planned = matched.destinations.map((destination) => {
        const eventId = deliveryEventId(account.id, event.idempotencyKey, destination.id);
        const filterDecision = applyRoutingFilter(destination.filter, click, event.canonical, event.data);
        const skipReason = !destination.enabled
          ? `destination disabled${destination.disabledReason ? `: ${destination.disabledReason}` : ''}`
          : filterDecision?.matched === false
            ? `filtered out: ${filterDecision.reason}`
            : null;
        const skipped = skipReason !== null;
        return {
          skipped,
          delivery: {
            status: skipped ? ('skipped' as const) : ('pending' as const),
            reason: skipReason,
            filterDecision,
            eventId,
            destinationId: destination.id,
            targetEvent: destination.targetEvent,
            workflowId: deliveryWorkflowId(eventId),
            body: serializeWebhookBody({
              targetEvent: destination.targetEvent,
              canonical: event.canonical,
              eventId,
              occurredAtMs: event.occurredAtMs,
              click,
              data: event.data,
            }),
          },
        };
      });
      const inserted = await this.deliveries.insertEventWithDeliveries(
        account.id,
        event,
        planned.map((p) => p.delivery),
        manager,
      );
      if (!inserted) return this.existingDeliveries(account.id, event.idempotencyKey, event.fingerprint, manager);
      return planned.map(({ delivery }): PlannedDelivery => ({
        eventId: delivery.eventId,
        destinationId: delivery.destinationId,
        targetEvent: delivery.targetEvent,
        status: delivery.status,
      }));
    });
  }

  /** A repeated id: answer with the deliveries made the first time (any still in the outbox are the dispatchers'). */
  private async existingDeliveries(accountId: string, idempotencyKey: string, fingerprint: string, manager: EntityManager): Promise<PlannedDelivery[]> {
    const existing = await this.deliveries.findEvent(accountId, idempotencyKey, manager);
    if (!existing) throw new Error(`event ${idempotencyKey} vanished during ingest`);
    if (existing.fingerprint !== fingerprint) {
      throw new EventError(EventErrorCode.IdempotencyKeyReused, `id ${idempotencyKey} was already used for a different event`);
    }
    return existing.deliveries.map((delivery) => ({
      eventId: delivery.eventId,
      destinationId: delivery.destination.id,
      targetEvent: delivery.targetEvent,
      status: delivery.status,
    }));
  }
}
