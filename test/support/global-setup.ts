import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../src/config/project-root.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { startEmbeddedTemporal } from '../../dev/embedded-temporal-server.js';
import { createTemplateDatabase } from './test-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** A migrated database used as the template of each test file's own database. */
    templateDatabaseUrl: string;
  }
}

/**
 * Once per run: a freshly migrated template database on the real PostgreSQL (migrations, not
 * synchronize) that each test file copies, and one real Temporal dev server with the delivery
 * search attributes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const template = await createTemplateDatabase('', (url) => runMigrations({ url, poolSize: 1 }));

  const temporal = await startEmbeddedTemporal({
    projectRoot: projectRoot(),
    cliPath: process.env.TEMPORAL_CLI_PATH,
    namespace: 'default',
    ui: false,
    log: (message) => console.log(`[temporal] ${message}`),
  });

  project.provide('templateDatabaseUrl', template.url);
  project.provide('temporalAddress', temporal.address);
  return async () => {
    await temporal.stop();
    await template.drop();
  };
}
