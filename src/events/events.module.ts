import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

@Module({ imports: [DispatchModule], controllers: [EventsController], providers: [EventsService] })
export class EventsModule {}
