import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { deliveryWorkflowId } from '../deliveries/delivery-dispatcher.js';
import { DeliveryRepository } from '../deliveries/delivery.repository.js';
import { OutboxNotifier } from '../deliveries/outbox-notifier.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import { deliveryEventId } from '../events/event-id.js';
import { serializeWebhookBody, type ClickContext } from '../events/webhook-body.js';
import type { TestDeliveryDto } from './dto/test-event.dto.js';
import { TestEventError, TestEventErrorCode } from './test-event.errors.js';

/** The click of every test event: every field set, so receivers see the full shape, and none a real one could have. */
export const TEST_EVENT_CLICK: ClickContext = {
  uid: 'test-uid',
  tg_id: 0,
  fbclid: 'test-fbclid',
  campaign_id: 'test-campaign',
  campaign_name: 'test campaign',
  country: 'XX',
};

/** The data of a test event: a deposit carries a value and currency, as ingest requires of real ones. */
function testEventData(canonical: CanonicalEvent): Record<string, unknown> {
  return canonical === 'deposit' ? { value: '1.00', currency: 'USD' } : {};
}

/**
 * Test events: a sample body in the seed's exact shape, stored as a `test` delivery and sent
 * through the real path (signed, gated, retried like any other), so a customer checks a new
 * endpoint end to end. The activity adds `webhook-test: true` and keeps the outcome out of health.
 */
@Injectable()
export class TestEventsService {
  private readonly logger = new Logger(TestEventsService.name);

  constructor(
    private readonly destinations: DestinationRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly outbox: OutboxNotifier,
  ) {}

  async send(accountId: string, destinationId: string, canonical: CanonicalEvent): Promise<TestDeliveryDto> {
    const destination = await this.destinations.findLive(accountId, destinationId);
    if (!destination) throw new TestEventError(TestEventErrorCode.DestinationNotFound, `destination ${destinationId} not found`);
    const targetEvent = destination.eventMap[canonical];
    if (targetEvent === undefined) {
      const mapped = Object.keys(destination.eventMap);
      throw new TestEventError(
        TestEventErrorCode.NotMapped,
        `canonical ${canonical} is not in the destination's event_map${mapped.length > 0 ? `; it maps: ${mapped.join(', ')}` : ''}`,
      );
    }
    const idempotencyKey = `test:${randomUUID()}`;
    const eventId = deliveryEventId(accountId, idempotencyKey, destinationId);
    const occurredAtMs = Date.now();
    const data = testEventData(canonical);
    await this.deliveries.insertTestDelivery(accountId, {
      idempotencyKey,
      eventId,
      destinationId,
      canonical,
      targetEvent,
      uid: TEST_EVENT_CLICK.uid,
      occurredAtMs,
      data,
      body: serializeWebhookBody({ targetEvent, canonical, eventId, occurredAtMs, click: TEST_EVENT_CLICK, data }),
      workflowId: deliveryWorkflowId(eventId),
    });
    // In the outbox like any ingested delivery: the dispatcher starts it, Temporal up or not.
    this.outbox.committed();
    this.logger.log(`test event ${eventId} sent to destination ${destinationId}`);
    return { event_id: eventId, destination_id: destinationId, canonical, event: targetEvent, status: 'pending', test: true, workflow_id: deliveryWorkflowId(eventId) };
  }
}
