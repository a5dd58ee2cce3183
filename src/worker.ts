import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit, warnAboutAllowedCidrs } from './config/boot.js';
import { createHttpApp } from './http-app.js';

/** Production worker process: runs delivery workflows and sends the webhooks; serves only /metrics, on METRICS_PORT. */
const config = loadConfigOrExit({ process: 'worker' });
warnAboutAllowedCidrs(config, (message) => new Logger('Worker').warn(message));
const app = await createHttpApp({ config, roles: { api: false, worker: true } });
app.enableShutdownHooks();
await app.listen(config.metricsPort, config.metricsHost);
new Logger('Worker').log(`worker metrics on ${config.metricsHost}:${config.metricsPort} (/metrics)`);
