import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operational webhooks: an account's own notification channel (a destination failing, recovering
 * or disabled, a delivery exhausted), sent to `operational_webhook_url` and signed with its own
 * `whsec_` secret. A rotation keeps the previous secret signing until it expires, as destinations do.
 *
 * `operational_notifications` holds each notification once per (account, key), with the body fixed
 * at creation so every attempt sends the same bytes. Only the worker reads and writes it, as the
 * table owner and keyed by notification id; no API route reads it, so the tenant role gets no
 * privilege on it at all, which is a stricter backstop than a row-level policy.
 */
export class OperationalWebhooks1764680400000 implements MigrationInterface {
  name = 'OperationalWebhooks1764680400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE accounts
        ADD COLUMN operational_webhook_url text,
        ADD COLUMN operational_webhook_secret text,
        ADD COLUMN operational_webhook_previous_secret text,
        ADD COLUMN operational_webhook_previous_secret_expires_at timestamptz,
        -- A secret exists only with a URL to sign for; removing the URL erases both secrets.
        ADD CONSTRAINT accounts_operational_webhook_secret_with_url
          CHECK ((operational_webhook_url IS NULL) = (operational_webhook_secret IS NULL)
                 AND (operational_webhook_previous_secret IS NULL OR operational_webhook_url IS NOT NULL))`);
    await queryRunner.query(`
      CREATE TABLE operational_notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        key text NOT NULL,
        type text NOT NULL CHECK (type IN ('destination.failing', 'destination.recovered', 'destination.disabled', 'delivery.exhausted')),
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        dispatched_at timestamptz,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempt_count integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        CONSTRAINT operational_notifications_account_key_key UNIQUE (account_id, key)
      )`);
    // The dispatch sweep's scan: only rows whose workflow start never succeeded.
    await queryRunner.query(`CREATE INDEX operational_notifications_undispatched_idx ON operational_notifications (created_at) WHERE dispatched_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE operational_notifications`);
    await queryRunner.query(`
      ALTER TABLE accounts
        DROP CONSTRAINT accounts_operational_webhook_secret_with_url,
        DROP COLUMN operational_webhook_previous_secret_expires_at,
        DROP COLUMN operational_webhook_previous_secret,
        DROP COLUMN operational_webhook_secret,
        DROP COLUMN operational_webhook_url`);
  }
}
