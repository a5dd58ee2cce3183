import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The next attempt's time is read from Temporal (the pending activity's nextAttemptScheduleTime)
 * when a delivery is shown; the column held the activity's own prediction of it.
 */
export class NextAttemptTimeFromTemporal1764504000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE deliveries DROP COLUMN next_attempt_at`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE deliveries ADD COLUMN next_attempt_at timestamptz`);
  }
}
