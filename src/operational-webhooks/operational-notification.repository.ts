import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { OperationalEventType } from '../../contract/operational-notifier.js';
import type { OperationalNotificationStatus, OperationalWebhookAttemptRecord } from '../../contract/operational-webhook-store.js';
import type { OperationalPayload } from './operational-payload.js';

export interface NewOperationalNotification {
  accountId: string;
  key: string;
  type: OperationalEventType;
  payload: OperationalPayload;
}

/** A notification as starting its workflow needs it. */
export interface OperationalNotificationToDispatch {
  id: string;
  accountId: string;
  type: OperationalEventType;
}

export interface StoredOperationalNotification extends OperationalNotificationToDispatch {
  /** False when the account had already raised this key: nothing was inserted. */
  created: boolean;
  dispatched: boolean;
}

/** A notification as one attempt reads it. */
export interface OperationalNotificationForSend {
  id: string;
  accountId: string;
  status: OperationalNotificationStatus;
  payload: OperationalPayload;
}

interface DispatchRow {
  id: string;
  account_id: string;
  type: OperationalEventType;
}

/**
 * Every statement on `operational_notifications`. Only the worker uses it (notify, the dispatch
 * sweep and the send activity's store): system work keyed by notification id across accounts,
 * run as the table owner. Status changes apply to `pending` rows only
 * (contract/operational-webhook-store.ts), checked in the statement itself.
 */
@Injectable()
export class OperationalNotificationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts the notification unless the account already raised its key, and returns the stored
   * row either way, so a repeated notify can still start a workflow whose first start failed.
   */
  async insertOnce(notification: NewOperationalNotification): Promise<StoredOperationalNotification> {
    const inserted: Array<DispatchRow> = await this.dataSource.query(
      `INSERT INTO operational_notifications (account_id, key, type, payload)
       VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (account_id, key) DO NOTHING
       RETURNING id, account_id, type`,
      [notification.accountId, notification.key, notification.type, JSON.stringify(notification.payload)],
    );
    if (inserted[0]) return { ...toDispatch(inserted[0]), created: true, dispatched: false };
    // A separate statement: one that lost the race to a concurrent insert of the same key sees
    // the winner's row only in a snapshot taken after the winner committed.
    const existing: Array<DispatchRow & { dispatched: boolean }> = await this.dataSource.query(
      `SELECT id, account_id, type, dispatched_at IS NOT NULL AS dispatched FROM operational_notifications WHERE account_id = $1 AND key = $2`,
      [notification.accountId, notification.key],
    );
    const [row] = existing;
    // Only the account's deletion, between the two statements, removes the row.
    if (!row) throw new Error(`operational notification ${notification.key} of account ${notification.accountId} vanished while it was stored`);
    return { ...toDispatch(row), created: false, dispatched: row.dispatched };
  }

  /** Pending notifications whose workflow start never succeeded, stored more than `olderThanSeconds` ago. */
  async findUndispatched(olderThanSeconds: number, limit: number): Promise<OperationalNotificationToDispatch[]> {
    const rows: DispatchRow[] = await this.dataSource.query(
      `SELECT id, account_id, type FROM operational_notifications
        WHERE dispatched_at IS NULL AND status = 'pending' AND created_at < now() - make_interval(secs => $1)
        ORDER BY created_at
        LIMIT $2`,
      [olderThanSeconds, limit],
    );
    return rows.map(toDispatch);
  }

  /** Records that the notification's workflow was started (first mark wins). */
  async markDispatched(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE operational_notifications SET dispatched_at = now() WHERE id = $1 AND dispatched_at IS NULL`, [id]);
  }

  async findForSend(id: string): Promise<OperationalNotificationForSend | undefined> {
    const rows: Array<{ id: string; account_id: string; status: OperationalNotificationStatus; payload: OperationalPayload }> = await this.dataSource.query(
      `SELECT id, account_id, status, payload FROM operational_notifications WHERE id = $1`,
      [id],
    );
    const [row] = rows;
    return row && { id: row.id, accountId: row.account_id, status: row.status, payload: row.payload };
  }

  /**
   * Keeps the attempt's outcome on a pending notification and, when it was accepted, makes it
   * `sent`. The count only grows, so recording the same attempt twice counts it once.
   */
  async recordAttempt({ notificationId, attempt, statusCode, error, sent }: OperationalWebhookAttemptRecord): Promise<void> {
    await this.dataSource.query(
      `UPDATE operational_notifications
          SET attempt_count = GREATEST(attempt_count, $2), last_status_code = $3, last_error = $4,
              status = CASE WHEN $5::boolean THEN 'sent' ELSE status END
        WHERE id = $1 AND status = 'pending'`,
      [notificationId, attempt, statusCode, error, sent],
    );
  }

  /** `failed` with its reason; false when the notification was not pending (or is gone). */
  async fail(id: string, reason: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE operational_notifications SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'pending'`,
      [id, reason],
    );
    return affected > 0;
  }
}

function toDispatch(row: DispatchRow): OperationalNotificationToDispatch {
  return { id: row.id, accountId: row.account_id, type: row.type };
}
