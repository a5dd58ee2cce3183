import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A soft-deleted destination keeps its row for the delivery history, but nothing it needed only to
 * send: erases the header values and signing secrets of destinations deleted before this release,
 * and makes the database refuse a deleted row that holds any (or a live one without a secret).
 */
export class DeletedDestinationsHoldNoSecrets1764417600000 implements MigrationInterface {
  name = 'DeletedDestinationsHoldNoSecrets1764417600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      UPDATE destinations
         SET headers = '{}', signing_secret = '', previous_signing_secret = NULL, previous_signing_secret_expires_at = NULL
       WHERE deleted_at IS NOT NULL`);
    await queryRunner.query(`
      ALTER TABLE destinations ADD CONSTRAINT destinations_deleted_hold_no_secrets CHECK (
        CASE WHEN deleted_at IS NULL THEN signing_secret <> ''
             ELSE headers = '{}' AND signing_secret = '' AND previous_signing_secret IS NULL AND previous_signing_secret_expires_at IS NULL
        END)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The erased secrets cannot come back; only the constraint is undone.
    await queryRunner.query(`ALTER TABLE destinations DROP CONSTRAINT destinations_deleted_hold_no_secrets`);
  }
}
