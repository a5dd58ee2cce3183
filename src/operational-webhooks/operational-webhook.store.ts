import { Injectable } from '@nestjs/common';
import type { OperationalWebhookAttemptRecord, OperationalWebhookStore, OperationalWebhookTarget } from '../../contract/operational-webhook-store.js';
import { AccountRepository } from '../accounts/account.repository.js';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { OperationalNotificationRepository } from './operational-notification.repository.js';
import { serializeOperationalPayload } from './operational-payload.js';

/**
 * The operational webhook activities' store on PostgreSQL: the notification from its repository,
 * the account's URL and secrets from the accounts repository, read at every attempt so that a
 * rotated secret or a removed URL applies to the next one.
 */
@Injectable()
export class PostgresOperationalWebhookStore implements OperationalWebhookStore {
  constructor(
    private readonly notifications: OperationalNotificationRepository,
    private readonly accounts: AccountRepository,
  ) {}

  async loadTarget(notificationId: string): Promise<OperationalWebhookTarget | undefined> {
    const notification = await this.notifications.findForSend(notificationId);
    if (!notification) return undefined;
    const endpoint = await this.accounts.findOperationalWebhook(notification.accountId);
    return {
      notificationId: notification.id,
      accountId: notification.accountId,
      status: notification.status,
      body: serializeOperationalPayload(notification.payload),
      endpoint: endpoint ?? null,
    };
  }

  recordAttempt(record: OperationalWebhookAttemptRecord): Promise<void> {
    return this.notifications.recordAttempt(record);
  }

  fail(notificationId: string, reason: string): Promise<boolean> {
    return this.notifications.fail(notificationId, reason);
  }

  isUnavailableError(error: unknown): boolean {
    return isDatabaseUnavailableError(error);
  }
}
