import { Module } from '@nestjs/common';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';

/**
 * Starting delivery workflows, shared by ingest, operator retries and the dispatch sweeper, and the
 * repository of the delivery tables they all write through.
 */
@Module({ providers: [DeliveryDispatcher, DeliveryRepository], exports: [DeliveryDispatcher, DeliveryRepository] })
export class DispatchModule {}
