import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { DestinationsModule } from '../destinations/destinations.module.js';
import { TestEventsController } from './test-events.controller.js';
import { TestEventsService } from './test-events.service.js';

@Module({
  imports: [DispatchModule, DestinationsModule],
  controllers: [TestEventsController],
  providers: [TestEventsService],
})
export class TestEventsModule {}
