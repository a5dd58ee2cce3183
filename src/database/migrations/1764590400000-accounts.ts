import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every table whose rows belong to one customer account. */
const TENANT_TABLES = ['destinations', 'clicks', 'events', 'deliveries', 'delivery_attempts'] as const;

/**
 * Accounts: every row of tenant data belongs to one, existing rows to the account `default`.
 *
 * Row-level security is the second line behind the repositories' own `account_id` filters: tenant
 * statements run in a transaction as the role `xtracker_tenant` with `xtracker.account_id` set
 * (src/database/tenant-database.ts), and the policies let that role see and write only the rows of
 * that account, so a statement that forgets its filter finds nothing of another account. The
 * table owner (migrations, the worker's statements keyed by event_id, account deletion) is not
 * subject to the policies.
 */
export class Accounts1764590400000 implements MigrationInterface {
  name = 'Accounts1764590400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:-]{1,64}$'),
        name text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        rate_limit_per_minute integer CHECK (rate_limit_per_minute >= 0),
        max_destinations integer CHECK (max_destinations >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`INSERT INTO accounts (id, name) VALUES ('default', 'default')`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        name text NOT NULL,
        scopes text[] NOT NULL CHECK (scopes <@ ARRAY['ingest', 'read', 'manage']::text[] AND cardinality(scopes) > 0),
        prefix text NOT NULL,
        digest bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at, id)`);

    for (const table of TENANT_TABLES) {
      // Deleting an account removes its rows with it (after its running deliveries were cancelled).
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN account_id text REFERENCES accounts (id) ON DELETE CASCADE`);
    }
    await queryRunner.query(`UPDATE destinations SET account_id = 'default'`);
    await queryRunner.query(`UPDATE clicks SET account_id = 'default'`);
    await queryRunner.query(`UPDATE events SET account_id = 'default'`);
    await queryRunner.query(`UPDATE deliveries SET account_id = 'default'`);
    await queryRunner.query(`UPDATE delivery_attempts SET account_id = 'default'`);
    for (const table of TENANT_TABLES) await queryRunner.query(`ALTER TABLE ${table} ALTER COLUMN account_id SET NOT NULL`);

    // Uids and idempotency keys are the customer's own: unique within an account, not across them.
    await queryRunner.query(`ALTER TABLE clicks DROP CONSTRAINT clicks_pkey, ADD PRIMARY KEY (account_id, uid)`);
    await queryRunner.query(`ALTER TABLE events DROP CONSTRAINT events_idempotency_key_key, ADD CONSTRAINT events_account_idempotency_key_key UNIQUE (account_id, idempotency_key)`);
    await queryRunner.query(`CREATE INDEX destinations_account_created_idx ON destinations (account_id, created_at, id)`);
    await queryRunner.query(`DROP INDEX deliveries_destination_created_idx`);
    await queryRunner.query(`DROP INDEX deliveries_created_idx`);
    await queryRunner.query(`CREATE INDEX deliveries_account_created_idx ON deliveries (account_id, created_at, event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_account_destination_created_idx ON deliveries (account_id, destination_id, created_at, event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_open_by_account_idx ON deliveries (account_id) WHERE status IN ('pending', 'retrying')`);

    // Roles are cluster-wide: another database on the same server may have created it already,
    // possibly at this very moment (test runs migrate several databases at once).
    await queryRunner.query(`
      DO $$ BEGIN
        CREATE ROLE xtracker_tenant NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    // The application's own user switches to the role inside tenant transactions (SET LOCAL ROLE).
    await queryRunner.query(`GRANT xtracker_tenant TO CURRENT_USER`);
    for (const table of TENANT_TABLES) {
      await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO xtracker_tenant`);
      await queryRunner.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(`
        CREATE POLICY ${table}_of_the_account ON ${table} TO xtracker_tenant
          USING (account_id = current_setting('xtracker.account_id', true))
          WITH CHECK (account_id = current_setting('xtracker.account_id', true))`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) {
      await queryRunner.query(`DROP POLICY ${table}_of_the_account ON ${table}`);
      await queryRunner.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
      await queryRunner.query(`REVOKE ALL ON ${table} FROM xtracker_tenant`);
    }
    await queryRunner.query(`DROP INDEX deliveries_open_by_account_idx`);
    await queryRunner.query(`DROP INDEX deliveries_account_destination_created_idx`);
    await queryRunner.query(`DROP INDEX deliveries_account_created_idx`);
    await queryRunner.query(`CREATE INDEX deliveries_created_idx ON deliveries (created_at, event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_destination_created_idx ON deliveries (destination_id, created_at, event_id)`);
    await queryRunner.query(`DROP INDEX destinations_account_created_idx`);
    // Going back to one account keeps only the default account's rows' uniqueness: refuse if others exist.
    await queryRunner.query(`ALTER TABLE events DROP CONSTRAINT events_account_idempotency_key_key, ADD CONSTRAINT events_idempotency_key_key UNIQUE (idempotency_key)`);
    await queryRunner.query(`ALTER TABLE clicks DROP CONSTRAINT clicks_pkey, ADD PRIMARY KEY (uid)`);
    for (const table of TENANT_TABLES) await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN account_id`);
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE accounts`);
  }
}
