import { Module } from '@nestjs/common';
import { PortalSessionAuthenticator } from './portal-session-authenticator.js';
import { PortalSessionRepository } from './portal-session.repository.js';

/** What the global ApiKeyGuard needs to accept a portal session cookie, without the portal's routes. */
@Module({
  providers: [PortalSessionRepository, PortalSessionAuthenticator],
  exports: [PortalSessionRepository, PortalSessionAuthenticator],
})
export class PortalAccessModule {}
