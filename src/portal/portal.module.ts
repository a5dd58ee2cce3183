import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { DestinationsModule } from '../destinations/destinations.module.js';
import { DestinationStatsController } from './destination-stats.controller.js';
import { DestinationStatsService } from './destination-stats.service.js';
import { PortalAccessModule } from './portal-access.module.js';
import { PortalAssets } from './portal-assets.js';
import { PortalLinksController } from './portal-links.controller.js';
import { PortalLinksService } from './portal-links.service.js';
import { PortalPagesController } from './portal-pages.controller.js';

/** The customer portal: links, sessions, the page itself and the aggregate its health view reads. */
@Module({
  imports: [PortalAccessModule, DispatchModule, DestinationsModule],
  controllers: [PortalLinksController, PortalPagesController, DestinationStatsController],
  providers: [PortalLinksService, PortalAssets, DestinationStatsService],
  // The global guards (registered by AppModule) accept portal sessions through it.
  exports: [PortalAccessModule],
})
export class PortalModule {}
