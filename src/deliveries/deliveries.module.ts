import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { DeliveryControlService } from './delivery-control.service.js';
import { DispatchModule } from './dispatch.module.js';
import { Delivery } from './delivery.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([Delivery, DeliveryAttempt]), DispatchModule],
  controllers: [DeliveriesController],
  providers: [DeliveriesService, DeliveryControlService],
})
export class DeliveriesModule {}
