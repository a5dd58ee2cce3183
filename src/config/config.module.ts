import { Global, Module, type DynamicModule } from '@nestjs/common';
import { systemResolver, type HostResolver } from '../url-policy/destination-url-policy.js';
import { APP_CONFIG, type AppConfig } from './app-config.js';

/** How destination host names are resolved, at save and at connect time; tests inject their own. */
export const HOST_RESOLVER = Symbol('HOST_RESOLVER');

/** Makes the configuration parsed at boot (and the host resolver) injectable. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, hostResolver: HostResolver = systemResolver): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: HOST_RESOLVER, useValue: hostResolver },
      ],
      exports: [APP_CONFIG, HOST_RESOLVER],
    };
  }
}
