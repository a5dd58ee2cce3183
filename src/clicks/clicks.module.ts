import { Module } from '@nestjs/common';
import { ClicksController } from './clicks.controller.js';
import { ClicksService } from './clicks.service.js';

@Module({ controllers: [ClicksController], providers: [ClicksService] })
export class ClicksModule {}
