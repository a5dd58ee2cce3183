import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customer portal sessions. One row per portal link: the link's one-time token and, once the link
 * was opened, the session cookie it was exchanged for, both kept only as SHA-256 digests (like
 * api_keys: 256-bit random values need no salt). `opened_at` set means the link is spent.
 *
 * Like api_keys, a session is looked up before any account is chosen (it is what chooses the
 * account), so the table is not under row-level security; the tenant role gets no privilege on it.
 */
export class Portal1764694800000 implements MigrationInterface {
  name = 'Portal1764694800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE portal_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        read_only boolean NOT NULL,
        link_digest bytea NOT NULL UNIQUE,
        session_digest bytea UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        opened_at timestamptz,
        CONSTRAINT portal_sessions_opened_with_session CHECK ((opened_at IS NULL) = (session_digest IS NULL))
      )`);
    // The clean-up of expired sessions each new link makes.
    await queryRunner.query(`CREATE INDEX portal_sessions_expires_idx ON portal_sessions (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE portal_sessions`);
  }
}
