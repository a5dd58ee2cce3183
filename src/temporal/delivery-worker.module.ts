import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { UndispatchedDeliverySweeper } from '../deliveries/undispatched-delivery-sweeper.js';
import { DeliveryWorkerService } from './delivery-worker.service.js';
import { TemporalModule } from './temporal.module.js';

@Module({ imports: [TemporalModule, DispatchModule], providers: [DeliveryWorkerService, UndispatchedDeliverySweeper] })
export class DeliveryWorkerModule {}
