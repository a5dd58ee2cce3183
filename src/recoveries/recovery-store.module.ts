import { Module } from '@nestjs/common';
import { RecoveryRepository } from './recovery.repository.js';

/** The `recoveries` table, for the API that creates and cancels recoveries and the worker that runs them. */
@Module({ providers: [RecoveryRepository], exports: [RecoveryRepository] })
export class RecoveryStoreModule {}
