import { Module } from '@nestjs/common';
import { DispatchModule } from '../deliveries/dispatch.module.js';
import { AccountAccessModule } from './account-access.module.js';
import { AccountsController, AccountsListController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';
import { OperationalWebhookUrlPolicy } from '../operational-webhooks/operational-webhook-url-policy.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

@Module({
  // Deleting an account cancels its running deliveries; enabling it wakes the held ones.
  imports: [AccountAccessModule, DispatchModule],
  controllers: [AccountsListController, AccountsController, ApiKeysController],
  providers: [AccountsService, ApiKeysService, OperationalWebhookUrlPolicy],
  // The global guards (registered by AppModule) resolve keys and accounts through it.
  exports: [AccountAccessModule],
})
export class AccountsModule {}
