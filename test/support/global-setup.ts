import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../src/config/project-root.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { startEmbeddedTemporal } from '../../src/temporal/embedded-temporal-server.js';
import { admin } from './test-database.js';

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
 * Once per run: a freshly migrated template database on the real PostgreSQL (migrations, not
 * synchronize) that each test file copies, and one real Temporal dev server with the delivery
 * search attributes. The template is named after DATABASE_URL's database plus a per-run suffix,
 * so two runs on one server never drop each other's databases; only names containing "test"
 * are ever created or dropped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = new URL(process.env.DATABASE_URL?.trim() || DEFAULT_TEST_DATABASE_URL);
  const baseName = decodeURIComponent(server.pathname.slice(1));
  if (!/^[a-z0-9_]*test[a-z0-9_]*$/.test(baseName)) {
    throw new Error(`DATABASE_URL for tests must name a database containing "test" ([a-z0-9_]), got "${baseName}"`);
  }
  const template = new URL(server);
  template.pathname = `/${baseName}_${randomBytes(3).toString('hex')}`;
  const templateName = template.pathname.slice(1);
  await admin(server, `CREATE DATABASE ${templateName}`);
  // runMigrations closes its connection: open connections to a template block CREATE DATABASE … TEMPLATE.
  await runMigrations({ url: template.toString(), poolSize: 1 });

  const temporal = await startEmbeddedTemporal({
    projectRoot: projectRoot(),
    cliPath: process.env.TEMPORAL_CLI_PATH,
    namespace: 'default',
    ui: false,
    log: (message) => console.log(`[temporal] ${message}`),
  });

  project.provide('templateDatabaseUrl', template.toString());
  project.provide('temporalAddress', temporal.address);
  return async () => {
    await temporal.stop();
    await admin(server, `DROP DATABASE IF EXISTS ${templateName} WITH (FORCE)`);
  };
}
