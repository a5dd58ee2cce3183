import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { DeliveryControlService } from './delivery-control.service.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { Delivery } from './delivery.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([Delivery, DeliveryAttempt])],
  controllers: [DeliveriesController],
  providers: [DeliveriesService, DeliveryControlService, DeliveryDispatcher],
  exports: [DeliveryDispatcher],
})
export class DeliveriesModule {}
