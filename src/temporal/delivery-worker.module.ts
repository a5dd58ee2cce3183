import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { OutboxDispatcher } from '../deliveries/outbox-dispatcher.js';
import { OutboxListener } from '../deliveries/outbox-listener.js';
import { TrafficModule } from '../traffic/traffic.module.js';
import { OperationalWebhooksModule } from '../operational-webhooks/operational-webhooks.module.js';
import { RecoveryStoreModule } from '../recoveries/recovery-store.module.js';
import { RetentionSchedule } from '../retention/retention-schedule.js';
import { DeliveryWorkerService } from './delivery-worker.service.js';
import { TemporalModule } from './temporal.module.js';

@Module({ imports: [TemporalModule, DispatchModule, TrafficModule, OperationalWebhooksModule, RecoveryStoreModule], providers: [DeliveryWorkerService, OutboxDispatcher, OutboxListener, RetentionSchedule] })
export class DeliveryWorkerModule {}
