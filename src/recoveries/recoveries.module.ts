import { Module } from '@nestjs/common';
import { DestinationsModule } from '../destinations/destinations.module.js';
import { RecoveriesController } from './recoveries.controller.js';
import { RecoveriesService } from './recoveries.service.js';
import { RecoveryStoreModule } from './recovery-store.module.js';

@Module({
  imports: [RecoveryStoreModule, DestinationsModule],
  controllers: [RecoveriesController],
  providers: [RecoveriesService],
})
export class RecoveriesModule {}
