import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadConfigOrExit, warnAboutAllowedCidrs } from './config/boot.js';
import { projectRoot } from './config/project-root.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres.js';
import { runMigrations } from './database/run-migrations.js';
import { createHttpApp } from './http-app.js';
import { startEmbeddedTemporal, type EmbeddedTemporal } from './temporal/embedded-temporal-server.js';

/**
 * `npm run dev`: API and worker in one process. Whatever is not configured is embedded:
 * PGlite under .data/ when DATABASE_URL is unset, a Temporal dev server (with its Web UI)
 * when TEMPORAL_ADDRESS is unset, and a generated API key when API_KEYS is unset.
 */
const EMBEDDED_TEMPORAL_PORT = 7233;
const EMBEDDED_TEMPORAL_UI_PORT = 8233;

const logger = new Logger('Dev');
const root = projectRoot();
const config = loadConfigOrExit({ process: 'dev' });
const log = (message: string) => logger.log(message);
warnAboutAllowedCidrs(config, (message) => logger.warn(message));

let embeddedPostgres: EmbeddedPostgres | undefined;
let embeddedTemporal: EmbeddedTemporal | undefined;
let databasePoolSize: number | undefined;

if (config.databaseUrl === undefined) {
  embeddedPostgres = await startEmbeddedPostgres({ dataDir: join(root, '.data', 'pglite'), log });
  config.databaseUrl = embeddedPostgres.url;
  databasePoolSize = embeddedPostgres.maxConnections;
}
const applied = await runMigrations({ url: config.databaseUrl!, poolSize: 1 });
if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`);

if (config.temporal.address === undefined) {
  embeddedTemporal = await startEmbeddedTemporal({
    projectRoot: root,
    cliPath: config.temporal.cliPath,
    namespace: config.temporal.namespace,
    port: EMBEDDED_TEMPORAL_PORT,
    uiPort: EMBEDDED_TEMPORAL_UI_PORT,
    ui: true,
    dbFile: join(root, '.data', 'temporal.db'),
    log,
  });
  config.temporal.address = embeddedTemporal.address;
}

if (config.apiKeys.length === 0) {
  const generated = `xt_dev_${randomBytes(18).toString('base64url')}`;
  config.apiKeys = [generated];
  // Printed once on purpose: a development key the developer has to copy; production requires API_KEYS.
  console.log(`\nAPI_KEYS is unset; this run accepts the generated key:\n\n  export XT_API_KEY=${generated}\n`);
}

const app = await createHttpApp({ config, roles: { api: true, worker: true }, databasePoolSize });
const stopEmbedded = async () => {
  await embeddedTemporal?.stop();
  await embeddedPostgres?.stop();
};
process.once('beforeExit', () => void stopEmbedded());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(stopEmbedded)
      .finally(() => process.exit(0));
  });
}
await app.listen(config.port);
log(`API on http://localhost:${config.port} (OpenAPI at /docs)`);
if (embeddedTemporal?.uiUrl) log(`Temporal Web UI on ${embeddedTemporal.uiUrl}`);
