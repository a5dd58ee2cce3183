import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HOST_RESOLVER } from '../config/config.module.js';
import { DestinationUrlPolicy, type HostResolver } from '../url-policy/destination-url-policy.js';
import { Destination } from './destination.entity.js';
import { DestinationsController } from './destinations.controller.js';
import { DestinationsService } from './destinations.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Destination])],
  controllers: [DestinationsController],
  providers: [
    DestinationsService,
    {
      provide: DestinationUrlPolicy,
      inject: [APP_CONFIG, HOST_RESOLVER],
      useFactory: (config: AppConfig, resolver: HostResolver) => new DestinationUrlPolicy(config.allowedCidrs, resolver),
    },
  ],
})
export class DestinationsModule {}
