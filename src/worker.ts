import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { loadConfigOrExit, warnAboutAllowedCidrs } from './config/boot.js';

/** Production worker process: runs delivery workflows and sends the webhooks; no HTTP server. */
const config = loadConfigOrExit({ process: 'worker' });
warnAboutAllowedCidrs(config, (message) => new Logger('Worker').warn(message));
const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, roles: { api: false, worker: true } }), {
  logger: ['log', 'warn', 'error'],
});
app.enableShutdownHooks();
