import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Keeps the previous signing secret during a rotation's grace period, so requests carry both signatures. */
export class SigningSecretRotation1764316800000 implements MigrationInterface {
  name = 'SigningSecretRotation1764316800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE destinations ADD COLUMN previous_signing_secret text`);
    await queryRunner.query(`ALTER TABLE destinations ADD COLUMN previous_signing_secret_expires_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE destinations DROP COLUMN previous_signing_secret_expires_at`);
    await queryRunner.query(`ALTER TABLE destinations DROP COLUMN previous_signing_secret`);
  }
}
