import { Module } from '@nestjs/common';
import { DeliveryDispatcher } from './delivery-dispatcher.js';

/** Starting delivery workflows, shared by ingest, operator retries and the dispatch sweeper. */
@Module({ providers: [DeliveryDispatcher], exports: [DeliveryDispatcher] })
export class DispatchModule {}
