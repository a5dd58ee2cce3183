import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { DestinationsModule } from '../destinations/destinations.module.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

@Module({ imports: [DispatchModule, DestinationsModule], controllers: [EventsController], providers: [EventsService] })
export class EventsModule {}
