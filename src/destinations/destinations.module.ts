import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DestinationUrlPolicy } from '../url-policy/destination-url-policy.js';
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
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new DestinationUrlPolicy(config.allowedCidrs),
    },
  ],
})
export class DestinationsModule {}
