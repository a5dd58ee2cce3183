import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Postback destinations (a GET or form POST to a URL template with macros, the ad trackers' S2S
 * convention), success matching on the response body, routing filters, and what each attempt sent.
 * `template_secrets` are secrets like header values: a deleted destination holds none.
 */
export class PostbacksAndRouting1764684000000 implements MigrationInterface {
  name = 'PostbacksAndRouting1764684000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE destinations
        ADD COLUMN format text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'postback')),
        ADD COLUMN url_template text,
        ADD COLUMN template_secrets jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN success_body text,
        ADD COLUMN filter jsonb,
        ADD CONSTRAINT destinations_postback_has_template CHECK ((format = 'postback') = (url_template IS NOT NULL))`);
    await queryRunner.query(`ALTER TABLE destinations DROP CONSTRAINT destinations_method_check`);
    await queryRunner.query(`
      ALTER TABLE destinations ADD CONSTRAINT destinations_method_check CHECK (
        CASE format WHEN 'json' THEN method IN ('POST', 'PUT', 'PATCH') ELSE method IN ('GET', 'POST') END)`);
    await queryRunner.query(`ALTER TABLE destinations DROP CONSTRAINT destinations_deleted_hold_no_secrets`);
    await queryRunner.query(`
      ALTER TABLE destinations ADD CONSTRAINT destinations_deleted_hold_no_secrets CHECK (
        CASE WHEN deleted_at IS NULL THEN signing_secret <> ''
             ELSE headers = '{}' AND template_secrets = '{}' AND signing_secret = '' AND previous_signing_secret IS NULL AND previous_signing_secret_expires_at IS NULL
        END)`);
    // The routing decision made at ingest, kept with the delivery: null when the destination had no filter.
    await queryRunner.query(`ALTER TABLE deliveries ADD COLUMN filter_decision jsonb`);
    // The request line as sent (secret parts of a postback template masked).
    await queryRunner.query(`ALTER TABLE delivery_attempts ADD COLUMN request_line text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE delivery_attempts DROP COLUMN request_line`);
    await queryRunner.query(`ALTER TABLE deliveries DROP COLUMN filter_decision`);
    await queryRunner.query(`DELETE FROM destinations WHERE format = 'postback'`);
    await queryRunner.query(`ALTER TABLE destinations DROP CONSTRAINT destinations_deleted_hold_no_secrets`);
    await queryRunner.query(`
      ALTER TABLE destinations ADD CONSTRAINT destinations_deleted_hold_no_secrets CHECK (
        CASE WHEN deleted_at IS NULL THEN signing_secret <> ''
             ELSE headers = '{}' AND signing_secret = '' AND previous_signing_secret IS NULL AND previous_signing_secret_expires_at IS NULL
        END)`);
    await queryRunner.query(`ALTER TABLE destinations DROP CONSTRAINT destinations_method_check`);
    await queryRunner.query(`ALTER TABLE destinations ADD CONSTRAINT destinations_method_check CHECK (method IN ('POST', 'PUT', 'PATCH'))`);
    await queryRunner.query(`
      ALTER TABLE destinations DROP CONSTRAINT destinations_postback_has_template,
        DROP COLUMN filter, DROP COLUMN success_body, DROP COLUMN template_secrets, DROP COLUMN url_template, DROP COLUMN format`);
  }
}
