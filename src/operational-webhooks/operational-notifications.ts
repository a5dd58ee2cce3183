import { Injectable, Logger } from '@nestjs/common';
import type { OperationalNotification, OperationalNotifier } from '../../contract/operational-notifier.js';
import { AccountRepository } from '../accounts/account.repository.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { OperationalNotificationRepository } from './operational-notification.repository.js';
import { buildOperationalPayload } from './operational-payload.js';
import { OperationalWebhookDispatcher } from './operational-webhook-dispatcher.js';

/**
 * The worker's OperationalNotifier: stores a notification once per (account, key), then starts its
 * own workflow. It never sends anything itself and never touches the delivery path, so raising a
 * notification from a delivery attempt cannot fail, slow down or count towards that delivery.
 */
@Injectable()
export class OperationalNotifications implements OperationalNotifier {
  private readonly logger = new Logger(OperationalNotifications.name);

  constructor(
    private readonly accounts: AccountRepository,
    private readonly notifications: OperationalNotificationRepository,
    private readonly dispatcher: OperationalWebhookDispatcher,
  ) {}

  /**
   * Resolves once the notification is stored (or, for an account without an operational webhook,
   * once it is known there is nothing to store). A failed workflow start does not reject: the row
   * stays undispatched and the sweep starts it, so the caller's own work goes on undisturbed.
   */
  async notify(notification: OperationalNotification): Promise<void> {
    const { accountId, key, type } = notification;
    const payload = buildOperationalPayload(notification);
    // Checked before storing: a notification nobody will receive is not kept. Should the URL be
    // removed right after, the notification's workflow ends it as failed with that reason.
    if (!(await this.accounts.findOperationalWebhook(accountId))) {
      this.logger.debug(`account ${accountId} has no operational_webhook_url: ${type} ${key} not stored`);
      return;
    }
    const stored = await this.notifications.insertOnce({ accountId, key, type, payload });
    if (stored.dispatched) return;
    try {
      await this.dispatcher.dispatch(stored);
    } catch (error) {
      const cause = describeTemporalError(error) ?? String(error);
      if (isTemporalUnavailableError(error)) {
        this.logger.warn(`operational notification ${stored.id} stored; its workflow will be started by the sweep (Temporal unavailable: ${cause})`);
      } else {
        this.logger.error(`operational notification ${stored.id} stored, but its workflow could not be started: ${cause}`);
      }
    }
  }
}
