import { Module } from '@nestjs/common';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';
import { OpenDeliveries } from './open-deliveries.js';

/**
 * Starting delivery workflows, shared by ingest, operator retries and the dispatch sweeper, and the
 * repository of the delivery tables they all write through.
 */
@Module({
  providers: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries],
  exports: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries],
})
export class DispatchModule {}
