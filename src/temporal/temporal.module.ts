import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { createTemporalClient } from './temporal-client.js';

@Global()
@Module({
  providers: [{ provide: Client, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createTemporalClient(config) }],
  exports: [Client],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(@Inject(Client) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}
