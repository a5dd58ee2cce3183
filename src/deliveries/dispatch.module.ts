import { Module } from '@nestjs/common';
import { DeliveryControlService } from './delivery-control.service.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';
import { OpenDeliveries } from './open-deliveries.js';

/**
 * Starting delivery workflows, shared by ingest, operator retries (one by one through the API, in
 * bulk by the worker's recovery activities) and the dispatch sweeper, and the repository of the
 * delivery tables they all write through.
 */
@Module({
  providers: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries, DeliveryControlService],
  exports: [DeliveryDispatcher, DeliveryRepository, OpenDeliveries, DeliveryControlService],
})
export class DispatchModule {}
