import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE destinations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        url text NOT NULL,
        method text NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH')),
        headers jsonb NOT NULL DEFAULT '{}',
        event_map jsonb NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        timeout_ms integer,
        retry_policy jsonb NOT NULL DEFAULT '{}',
        signing_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE clicks (
        uid text PRIMARY KEY,
        tg_id bigint,
        fbclid text,
        campaign_id text,
        campaign_name text,
        country text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        idempotency_key text NOT NULL UNIQUE,
        fingerprint text NOT NULL,
        canonical text NOT NULL,
        uid text NOT NULL,
        occurred_at_ms bigint NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE deliveries (
        event_id text PRIMARY KEY,
        source_event_id uuid NOT NULL REFERENCES events (id),
        destination_id uuid NOT NULL REFERENCES destinations (id),
        canonical text NOT NULL,
        target_event text NOT NULL,
        body text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'retrying', 'sent', 'failed', 'cancelled')),
        attempt_count integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz,
        workflow_id text NOT NULL,
        dispatched_at timestamptz,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX deliveries_source_event_idx ON deliveries (source_event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_destination_created_idx ON deliveries (destination_id, created_at, event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_created_idx ON deliveries (created_at, event_id)`);
    await queryRunner.query(`CREATE INDEX deliveries_undispatched_idx ON deliveries (created_at) WHERE dispatched_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE delivery_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id text NOT NULL REFERENCES deliveries (event_id),
        workflow_run_id text NOT NULL,
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        status_code integer,
        error text,
        response_body text,
        UNIQUE (event_id, workflow_run_id, attempt)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE delivery_attempts`);
    await queryRunner.query(`DROP TABLE deliveries`);
    await queryRunner.query(`DROP TABLE events`);
    await queryRunner.query(`DROP TABLE clicks`);
    await queryRunner.query(`DROP TABLE destinations`);
  }
}
