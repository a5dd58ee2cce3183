import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { accountOfRequestPath } from './request-account.js';
import { rootLogger } from './root-logger.js';

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);


/** Request logs carry the method, the path without its query string, the status and the time taken. */
export const LoggingModule = LoggerModule.forRoot({
  pinoHttp: {
    logger: rootLogger,
    // Bound to every line logged while the request runs (nestjs-pino's request context), not only the access line.
    customProps: (request: IncomingMessage) => accountOfRequestPath(request.url),
    autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has((request.url ?? '').split('?')[0]!) },
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, path: request.url.split('?')[0] }),
      res: (response: { statusCode: number }) => ({ status_code: response.statusCode }),
    },
    customSuccessMessage: (request, response) => `${request.method} ${(request.url ?? '').split('?')[0]} ${response.statusCode}`,
  },
});
