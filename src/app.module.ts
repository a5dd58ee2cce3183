import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AccountAccessGuard } from './accounts/account-access.guard.js';
import { AccountsModule } from './accounts/accounts.module.js';
import { ClicksModule } from './clicks/clicks.module.js';
import { ApiKeyGuard } from './common/api-key.guard.js';
import { ApiRateLimitGuard } from './common/api-rate-limit.guard.js';
import { FailedAuthLimiter } from './common/failed-auth-limiter.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DeliveriesModule } from './deliveries/deliveries.module.js';
import { DestinationsModule } from './destinations/destinations.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PortalModule } from './portal/portal.module.js';
import { RecoveriesModule } from './recoveries/recoveries.module.js';
import { TestEventsModule } from './test-events/test-events.module.js';
import { DeliveryWorkerModule } from './temporal/delivery-worker.module.js';
import { TemporalModule } from './temporal/temporal.module.js';
import type { HostResolver } from './url-policy/destination-url-policy.js';

/** Which halves of the service this process runs: `npm run dev` runs both. */
export interface AppRoles {
  api: boolean;
  worker: boolean;
}

export interface AppModuleOptions {
  config: AppConfig;
  roles: AppRoles;
  /** The embedded PGlite accepts a single connection. */
  databasePoolSize?: number;
  /** Replaces DNS for destination hosts; only tests set it. */
  hostResolver?: HostResolver;
}

@Module({})
export class AppModule {
  static forRoot({ config, roles, databasePoolSize, hostResolver }: AppModuleOptions): DynamicModule {
    if (config.databaseUrl === undefined) throw new Error('DATABASE_URL was not resolved before the application was built');
    const api = roles.api
      ? [
          TemporalModule,
          HealthModule,
          AccountsModule,
          DestinationsModule,
          ClicksModule,
          EventsModule,
          DeliveriesModule,
          RecoveriesModule,
          TestEventsModule,
          PortalModule,
          // The limit here is the default; ApiRateLimitGuard applies an account's own and skips 0 (off).
          ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: config.rateLimitPerMinute }] }),
        ]
      : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, hostResolver),
        LoggingModule,
        MetricsModule,
        DatabaseModule.forRoot({ url: config.databaseUrl, poolSize: databasePoolSize }),
        ...api,
        ...(roles.worker ? [DeliveryWorkerModule] : []),
      ],
      // In this order. Authentication first: it attaches the principal the limiter counts by, and
      // counts requests without a valid key per address itself, before they reach any bucket. Then
      // the limit, so requests access control refuses (403, 404) are counted too. Then access control.
      providers: roles.api
        ? [
            FailedAuthLimiter,
            { provide: APP_GUARD, useClass: ApiKeyGuard },
            { provide: APP_GUARD, useClass: ApiRateLimitGuard },
            { provide: APP_GUARD, useClass: AccountAccessGuard },
          ]
        : [],
    };
  }
}
