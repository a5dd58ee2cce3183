import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of the test file's own, copied from the migrated template, so files running in
 * parallel never see each other's destinations or events.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = new URL(inject('templateDatabaseUrl'));
  const templateName = decodeURIComponent(template.pathname.slice(1));
  const name = `${templateName}_${randomBytes(5).toString('hex')}`;
  await admin(template, `CREATE DATABASE ${name} TEMPLATE ${templateName}`);
  const url = new URL(template);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(template, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Runs one statement as an administrator on the server of `server`, outside any application pool. */
export async function admin(server: URL, statement: string): Promise<void> {
  const url = new URL(server);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The real PostgreSQL the suites run against; `.ci/run` sets DATABASE_URL to it. */
const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/xtracker_webhooks_test';

/**
 * A migrated template database for one test run, named after DATABASE_URL's database plus a
 * per-run suffix, so two runs on one server never drop each other's databases; only names
 * containing "test" are ever created or dropped. `migrate` must close its connections:
 * an open connection to a template blocks CREATE DATABASE … TEMPLATE.
 */
export async function createTemplateDatabase(suffix: string, migrate: (url: string) => Promise<unknown>): Promise<TestDatabase> {
  const server = new URL(process.env.DATABASE_URL?.trim() || DEFAULT_TEST_DATABASE_URL);
  const baseName = decodeURIComponent(server.pathname.slice(1));
  if (!/^[a-z0-9_]*test[a-z0-9_]*$/.test(baseName)) {
    throw new Error(`DATABASE_URL for tests must name a database containing "test" ([a-z0-9_]), got "${baseName}"`);
  }
  const name = `${baseName}_${suffix}${randomBytes(3).toString('hex')}`;
  const template = new URL(server);
  template.pathname = `/${name}`;
  await admin(server, `CREATE DATABASE ${name}`);
  const drop = () => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    await migrate(template.toString());
  } catch (error) {
    await drop();
    throw error;
  }
  return { url: template.toString(), drop };
}
