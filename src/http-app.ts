import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { createValidationPipe } from './common/validation.js';
import { PORTAL_PATH_PREFIX, portalSecurityHeaders } from './portal/portal-security-headers.js';

/** Largest accepted request body; larger ones get 413. Documented in the README. */
export const MAX_REQUEST_BODY = '256kb';

/**
 * Builds the HTTP application exactly as every entry point runs it: the API (with the worker in
 * `npm run dev`), or a worker process's own /metrics endpoint.
 */
export async function createHttpApp(options: AppModuleOptions): Promise<INestApplication> {
  const server = express();
  // A route answers only to the path it declares: `/V1/destinations` or `/v1/destinations/` is a
  // 404, never another way in. Set before the adapter exists: Express fixes its router's matching
  // options when the router is created, which the adapter's constructor does.
  server.set('case sensitive routing', true);
  server.set('strict routing', true);
  // Only the configured proxies may name the client (X-Forwarded-For); the per-address limit counts by it.
  server.set('trust proxy', options.config.trustProxy);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), new ExpressAdapter(server), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: MAX_REQUEST_BODY });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  app.disable('x-powered-by');
  // Security headers everywhere; Swagger UI needs its inline scripts, so /docs goes without a CSP;
  // the customer portal has its own CSP, which may allow framing by PORTAL_FRAME_ANCESTORS.
  const secured = helmet();
  const securedWithoutCsp = helmet({ contentSecurityPolicy: false });
  const securedPortal = portalSecurityHeaders(options.config.portal);
  const headersFor = (path: string) =>
    path.startsWith('/docs') ? securedWithoutCsp : path === PORTAL_PATH_PREFIX || path.startsWith(`${PORTAL_PATH_PREFIX}/`) ? securedPortal : secured;
  app.use((request: { path: string }, response: unknown, next: () => void) => headersFor(request.path)(request as never, response as never, next));

  if (!options.roles.api) return app;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('XTRACKER Webhooks')
      .setDescription('Webhook destinations, click attribution, event ingest and delivery history.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
  return app;
}
