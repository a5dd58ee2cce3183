import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadConfigOrExit, warnAboutAllowedCidrs } from '../src/config/boot.js';
import { projectRoot } from '../src/config/project-root.js';
import { runMigrations } from '../src/database/run-migrations.js';
import { createHttpApp } from '../src/http-app.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { startEmbeddedTemporal, type EmbeddedTemporal } from './embedded-temporal-server.js';

/**
 * `npm run dev`: API and worker in one process. Whatever is not configured is embedded:
 * PGlite under .data/ when DATABASE_URL is unset, a Temporal dev server (with its Web UI)
 * when TEMPORAL_ADDRESS is unset, and a generated API key when API_KEYS is unset. The embedded
 * parts only fill in the environment; the application then gets the same complete, validated
 * configuration a production process does.
 */
const EMBEDDED_TEMPORAL_PORT = 7233;
const EMBEDDED_TEMPORAL_UI_PORT = 8233;
/** Stands in for the embedded PostgreSQL's address, which is known only once it listens. */
const EMBEDDED_DATABASE_PLACEHOLDER = 'postgres://postgres@127.0.0.1:5432/embedded';

const logger = new Logger('Dev');
const root = projectRoot();
const log = (message: string) => logger.log(message);
const given = (name: string) => (process.env[name]?.trim() ? process.env[name] : undefined);

const generatedKey = given('API_KEYS') === undefined ? `xt_dev_${randomBytes(18).toString('base64url')}` : undefined;
const devEnv = {
  ...process.env,
  API_KEYS: given('API_KEYS') ?? generatedKey,
  TEMPORAL_ADDRESS: given('TEMPORAL_ADDRESS') ?? `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`,
};
// Refuse a bad variable before anything is started, exactly as production would.
loadConfigOrExit({ process: 'api', env: { ...devEnv, DATABASE_URL: given('DATABASE_URL') ?? EMBEDDED_DATABASE_PLACEHOLDER } });

let embeddedPostgres: EmbeddedPostgres | undefined;
let embeddedTemporal: EmbeddedTemporal | undefined;
let databasePoolSize: number | undefined;

if (given('DATABASE_URL') === undefined) {
  embeddedPostgres = await startEmbeddedPostgres({ dataDir: join(root, '.data', 'pglite'), log });
  databasePoolSize = embeddedPostgres.maxConnections;
}
const config = loadConfigOrExit({
  process: 'api',
  env: {
    ...devEnv,
    DATABASE_URL: given('DATABASE_URL') ?? embeddedPostgres!.url,
    // The embedded server takes one connection, which the pool needs; API and worker share this
    // process, so ingest wakes the outbox dispatcher directly.
    ...(embeddedPostgres ? { OUTBOX_LISTEN: 'false' } : {}),
  },
});
warnAboutAllowedCidrs(config, (message) => logger.warn(message));

const applied = await runMigrations({ url: config.databaseUrl, poolSize: 1 });
if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`);

if (given('TEMPORAL_ADDRESS') === undefined) {
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
}

if (generatedKey !== undefined) {
  // Printed once on purpose: a development key the developer has to copy; production requires API_KEYS.
  console.log(`\nAPI_KEYS is unset; this run accepts the generated key:\n\n  export XT_API_KEY=${generatedKey}\n`);
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
