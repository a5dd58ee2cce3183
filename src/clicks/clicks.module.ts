import { Module } from '@nestjs/common';
import { ClicksController } from './clicks.controller.js';
import { ClickRepository } from './click.repository.js';
import { ClicksService } from './clicks.service.js';

@Module({ controllers: [ClicksController], providers: [ClicksService, ClickRepository] })
export class ClicksModule {}
