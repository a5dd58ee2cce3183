import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { projectRoot } from '../../src/config/project-root.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { startEmbeddedTemporal } from '../../src/temporal/embedded-temporal-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** A migrated database used as the template of each test file's own database. */
    templateDatabaseUrl: string;
  }
}

/** The real PostgreSQL the suite runs against; `.ci/run` sets DATABASE_URL to it. */
const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/xtracker_webhooks_test';

/**
 * Once per `npm test`: a freshly migrated database on the real PostgreSQL (migrations, not
 * synchronize) that each test file copies, and one real Temporal dev server with the
 * delivery search attributes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.DATABASE_URL?.trim() || DEFAULT_TEST_DATABASE_URL;
  await recreateDatabase(databaseUrl);
  await runMigrations({ url: databaseUrl, poolSize: 1 });
  // Connections to a template block CREATE DATABASE … TEMPLATE; runMigrations closed its own.

  const temporal = await startEmbeddedTemporal({
    projectRoot: projectRoot(),
    cliPath: process.env.TEMPORAL_CLI_PATH,
    namespace: 'default',
    ui: false,
    log: (message) => console.log(`[temporal] ${message}`),
  });

  project.provide('templateDatabaseUrl', databaseUrl);
  project.provide('temporalAddress', temporal.address);
  return () => temporal.stop();
}

async function recreateDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  // The suite drops and recreates this database: never let it touch one that is not a test database.
  if (!/^[a-z0-9_]*test[a-z0-9_]*$/.test(name)) {
    throw new Error(`DATABASE_URL for tests must name a database containing "test" ([a-z0-9_]), got "${name}"`);
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}
