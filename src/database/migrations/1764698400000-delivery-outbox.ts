import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deliveries table becomes the transactional outbox of ingest: a delivery committed as
 * `pending` with `dispatched_at` null is waiting for a dispatcher to start its workflow.
 *
 * `dispatch_claimed_until` is a dispatcher's lease on a row between claiming it and Temporal
 * accepting the start (then `dispatched_at` is set and the lease cleared). A dispatcher that dies
 * in between leaves a lease that expires, and the row is claimed again; starts are idempotent.
 *
 * Two partial indexes serve the dispatcher's one claim statement: the outbox by destination (a
 * loose index scan finds the destinations with waiting rows, then each one's oldest), and each
 * destination's dispatch window (deliveries handed to Temporal that have not made their first
 * attempt yet), which bounds how many of one destination's deliveries Temporal holds at once.
 */
export class DeliveryOutbox1764698400000 implements MigrationInterface {
  name = 'DeliveryOutbox1764698400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE deliveries ADD COLUMN dispatch_claimed_until timestamptz`);
    await queryRunner.query(`DROP INDEX deliveries_undispatched_idx`);
    await queryRunner.query(
      `CREATE INDEX deliveries_outbox_idx ON deliveries (destination_id, created_at) WHERE dispatched_at IS NULL AND status = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX deliveries_dispatch_window_idx ON deliveries (destination_id)
        WHERE status = 'pending' AND attempt_count = 0 AND (dispatched_at IS NOT NULL OR dispatch_claimed_until IS NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX deliveries_dispatch_window_idx`);
    await queryRunner.query(`DROP INDEX deliveries_outbox_idx`);
    await queryRunner.query(`CREATE INDEX deliveries_undispatched_idx ON deliveries (created_at) WHERE dispatched_at IS NULL`);
    await queryRunner.query(`ALTER TABLE deliveries DROP COLUMN dispatch_claimed_until`);
  }
}
