import { pino, type Logger, type MultiStreamRes } from 'pino';

/**
 * Where log lines go: standard output, plus any stream added at run time (tests add one to
 * prove that no secret is ever logged).
 */
export const logStreams: MultiStreamRes = pino.multistream([{ level: 'trace', stream: pino.destination({ fd: 1, sync: false }) }]);

/**
 * The process's one JSON logger. Header values, API keys and signatures must never be logged;
 * these paths are redacted in case a request or error object is logged whole by mistake.
 */
export const rootLogger: Logger = pino(
  {
    // Until boot has validated LOG_LEVEL and set it (src/config/boot.ts).
    level: 'info',
    base: { service: 'xtracker-webhooks' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["idempotency-key"]',
        'headers',
        '*.headers',
        'signing_secret',
        '*.signing_secret',
        'signingSecret',
        '*.signingSecret',
        // A TypeORM QueryFailedError logged whole (the Temporal SDK logs an activity's failure with its
        // error object) carries the statement's parameters and PostgreSQL's detail, which quotes row values.
        'parameters',
        '*.parameters',
        'detail',
        '*.detail',
        '*.driverError',
      ],
      censor: '[redacted]',
    },
  },
  logStreams,
);
