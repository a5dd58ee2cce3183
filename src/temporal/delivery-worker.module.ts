import { Module } from '@nestjs/common';
import { DeliveryWorkerService } from './delivery-worker.service.js';

@Module({ providers: [DeliveryWorkerService] })
export class DeliveryWorkerModule {}
