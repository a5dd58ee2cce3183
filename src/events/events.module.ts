import { Module } from '@nestjs/common';
import { DeliveriesModule } from '../deliveries/deliveries.module.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

@Module({ imports: [DeliveriesModule], controllers: [EventsController], providers: [EventsService] })
export class EventsModule {}
