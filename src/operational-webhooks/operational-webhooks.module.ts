import { Module } from '@nestjs/common';
import { AccountAccessModule } from '../accounts/account-access.module.js';
import { OperationalNotificationRepository } from './operational-notification.repository.js';
import { OperationalNotifications } from './operational-notifications.js';
import { OperationalWebhookDispatcher } from './operational-webhook-dispatcher.js';
import { PostgresOperationalWebhookStore } from './operational-webhook.store.js';
import { UndispatchedOperationalNotificationSweeper } from './undispatched-operational-notification-sweeper.js';

/**
 * The worker's half of operational webhooks: the notifier the delivery activities raise
 * notifications through, the store of the send activity, and the dispatch sweep. The API's half
 * (the account's URL and secret) lives with the accounts routes. Needs the Temporal Client
 * (TemporalModule, global) to start workflows.
 */
@Module({
  // The accounts repository, for each account's URL and secrets.
  imports: [AccountAccessModule],
  providers: [OperationalNotificationRepository, OperationalWebhookDispatcher, OperationalNotifications, PostgresOperationalWebhookStore, UndispatchedOperationalNotificationSweeper],
  exports: [OperationalNotifications, PostgresOperationalWebhookStore],
})
export class OperationalWebhooksModule {}
