import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The traffic tables hold one account's rows each, under the same row-level security as the others. */
const TRAFFIC_TABLES = ['destination_health', 'destination_leases', 'destination_waiters'] as const;

/**
 * Destination health and traffic control (docs/TRAFFIC.md): per-destination and per-account limits,
 * pause and disable with a reason, the `skipped` status, and the three tables the traffic gate
 * owns — the breaker and rate-limiter state per destination, the leases of attempts in flight, and
 * the deliveries waiting for a free slot.
 */
export class DestinationTraffic1764676800000 implements MigrationInterface {
  name = 'DestinationTraffic1764676800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE destinations
        ADD COLUMN rate_limit_per_second double precision CHECK (rate_limit_per_second > 0),
        ADD COLUMN max_in_flight integer CHECK (max_in_flight >= 1),
        ADD COLUMN paused_at timestamptz,
        ADD COLUMN disabled_at timestamptz,
        ADD COLUMN disabled_reason text`);
    await queryRunner.query(`
      ALTER TABLE accounts
        ADD COLUMN default_rate_limit_per_second double precision CHECK (default_rate_limit_per_second > 0),
        ADD COLUMN default_max_in_flight integer CHECK (default_max_in_flight >= 1),
        ADD COLUMN auto_disable_after_ms bigint CHECK (auto_disable_after_ms >= 1000)`);
    await queryRunner.query(`ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check`);
    await queryRunner.query(`
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'retrying', 'sent', 'failed', 'cancelled', 'skipped'))`);

    await queryRunner.query(`
      CREATE TABLE destination_health (
        destination_id uuid PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        breaker text NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half_open')),
        failure_streak integer NOT NULL DEFAULT 0,
        failing_since timestamptz,
        opened_at timestamptz,
        open_until timestamptz,
        probe_event_id text,
        probe_until timestamptz,
        last_success_at timestamptz,
        last_failure_at timestamptz,
        last_failure_reason text,
        next_slot_at timestamptz,
        last_slot_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE destination_leases (
        destination_id uuid NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
        event_id text NOT NULL,
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (destination_id, event_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE destination_waiters (
        destination_id uuid NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
        workflow_id text NOT NULL,
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        since timestamptz NOT NULL DEFAULT now(),
        woken_at timestamptz,
        PRIMARY KEY (destination_id, workflow_id)
      )`);
    await queryRunner.query(`CREATE INDEX destination_waiters_queue_idx ON destination_waiters (destination_id, since)`);
    for (const table of TRAFFIC_TABLES) {
      await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO xtracker_tenant`);
      await queryRunner.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(`
        CREATE POLICY ${table}_of_the_account ON ${table} TO xtracker_tenant
          USING (account_id = current_setting('xtracker.account_id', true))
          WITH CHECK (account_id = current_setting('xtracker.account_id', true))`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TRAFFIC_TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
    await queryRunner.query(`UPDATE deliveries SET status = 'failed' WHERE status = 'skipped'`);
    await queryRunner.query(`ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check`);
    await queryRunner.query(`
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'retrying', 'sent', 'failed', 'cancelled'))`);
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN default_rate_limit_per_second, DROP COLUMN default_max_in_flight, DROP COLUMN auto_disable_after_ms`);
    await queryRunner.query(`
      ALTER TABLE destinations DROP COLUMN rate_limit_per_second, DROP COLUMN max_in_flight,
        DROP COLUMN paused_at, DROP COLUMN disabled_at, DROP COLUMN disabled_reason`);
  }
}
