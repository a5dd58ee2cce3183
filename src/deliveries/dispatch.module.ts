import { Module } from '@nestjs/common';
import { DeliveryControlService } from './delivery-control.service.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';
import { OpenDeliveries } from './open-deliveries.js';
import { OutboxNotifier } from './outbox-notifier.js';
import { OutboxSignal } from './outbox-signal.js';

/**
 * Starting delivery workflows, shared by the outbox dispatcher and operator retries (one by one
 * through the API, in bulk by the worker's recovery activities); the outbox's in-process wake-up
 * that ingest and test events ring; and the repository of the delivery tables they all write through.
 */
@Module({
  providers: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries, DeliveryControlService, OutboxSignal, OutboxNotifier],
  exports: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries, DeliveryControlService, OutboxSignal, OutboxNotifier],
})
export class DispatchModule {}
