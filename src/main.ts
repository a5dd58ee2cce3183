import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit, warnAboutAllowedCidrs } from './config/boot.js';
import { createHttpApp } from './http-app.js';

/** Production API process: configuration, ingest and delivery routes; no worker. */
const config = loadConfigOrExit({ process: 'api' });
const logger = new Logger('Api');
warnAboutAllowedCidrs(config, (message) => logger.warn(message));
const app = await createHttpApp({ config, roles: { api: true, worker: false } });
app.enableShutdownHooks();
await app.listen(config.port);
logger.log(`API listening on port ${config.port}`);
