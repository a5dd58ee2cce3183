import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HOST_RESOLVER } from '../config/config.module.js';
import { DestinationUrlPolicy, type HostResolver } from '../url-policy/destination-url-policy.js';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { TrafficModule } from '../traffic/traffic.module.js';
import { DestinationsController } from './destinations.controller.js';
import { DestinationRepository } from './destination.repository.js';
import { DestinationsService } from './destinations.service.js';

@Module({
  imports: [TrafficModule, DispatchModule],
  controllers: [DestinationsController],
  providers: [
    DestinationsService,
    DestinationRepository,
    {
      provide: DestinationUrlPolicy,
      inject: [APP_CONFIG, HOST_RESOLVER],
      useFactory: (config: AppConfig, resolver: HostResolver) => new DestinationUrlPolicy(config.allowedCidrs, resolver),
    },
  ],
  // Ingest reads the destinations an event reaches through the same repository.
  exports: [DestinationRepository],
})
export class DestinationsModule {}
