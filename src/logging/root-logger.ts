import { pino, type Logger } from 'pino';

/**
 * The process's one JSON logger. Header values, API keys and signatures must never be logged;
 * these paths are redacted in case a request or error object is logged whole by mistake.
 */
export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'xtracker-webhooks' },
  redact: {
    paths: ['req.headers.authorization', 'req.headers["idempotency-key"]', 'headers', '*.headers', 'signing_secret', '*.signing_secret', 'signingSecret', '*.signingSecret'],
    censor: '[redacted]',
  },
});
