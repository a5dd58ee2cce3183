import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recovery and data lifecycle (issue 13): the `recoveries` table (one bulk recover each, its
 * progress written by its workflow), test deliveries, and the per-account retention override.
 */
export class Recoveries1764687600000 implements MigrationInterface {
  name = 'Recoveries1764687600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE recoveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        -- null: every destination of the account. No foreign key: a recovery outlives a deleted destination.
        destination_id uuid,
        since timestamptz NOT NULL,
        until timestamptz,
        statuses text[] NOT NULL CHECK (cardinality(statuses) > 0 AND statuses <@ ARRAY['failed', 'skipped', 'cancelled']::text[]),
        state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'cancelled', 'failed')),
        -- Deliveries matching when the first page was read, for progress bars; null until then.
        total integer,
        matched integer NOT NULL DEFAULT 0,
        retried integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        destination_deleted integer NOT NULL DEFAULT 0,
        -- The keyset position (created_at, event_id) of the last delivery recovered: where the next page starts.
        cursor_created_at timestamptz,
        cursor_event_id text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CHECK (until IS NULL OR until > since)
      )`);
    await queryRunner.query(`CREATE INDEX recoveries_account_created_idx ON recoveries (account_id, created_at, id)`);
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON recoveries TO xtracker_tenant`);
    await queryRunner.query(`ALTER TABLE recoveries ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`
      CREATE POLICY recoveries_of_the_account ON recoveries TO xtracker_tenant
        USING (account_id = current_setting('xtracker.account_id', true))
        WITH CHECK (account_id = current_setting('xtracker.account_id', true))`);

    await queryRunner.query(`ALTER TABLE deliveries ADD COLUMN test boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE accounts ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 1 AND 3650)`);
    // The retention purge walks deliveries by age across accounts; the per-account index leads with account_id.
    await queryRunner.query(`CREATE INDEX deliveries_age_idx ON deliveries (created_at)`);
    await queryRunner.query(`CREATE INDEX events_age_idx ON events (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX events_age_idx`);
    await queryRunner.query(`DROP INDEX deliveries_age_idx`);
    await queryRunner.query(`ALTER TABLE accounts DROP COLUMN retention_days`);
    await queryRunner.query(`ALTER TABLE deliveries DROP COLUMN test`);
    await queryRunner.query(`DROP TABLE recoveries`);
  }
}
