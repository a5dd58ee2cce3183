import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** Longest SQL text kept in a log line; the statements of this service are all shorter. */
const MAX_QUERY_LOG_LENGTH = 500;

/**
 * TypeORM's own loggers print a failed query with its parameters to stdout, bypassing pino:
 * parameters carry header values and signing secrets. This one writes through the process's
 * logger and only ever says which statement failed and PostgreSQL's error code, never a
 * parameter and never the driver's message (which can quote an input value).
 */
export class ParameterFreeQueryLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.error(`query failed (${describeDatabaseError(error)}): ${shortenQuery(query)}`);
  }

  logQuerySlow(timeMs: number, query: string): void {
    this.logger.warn(`slow query (${timeMs} ms): ${shortenQuery(query)}`);
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}

/**
 * What may be logged of a database error: its SQLSTATE and the schema objects it names.
 * The message and detail are left out because PostgreSQL quotes offending values in them.
 */
export function describeDatabaseError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const { code, table, constraint, column } = error as Record<string, unknown>;
  const parts = [`code ${typeof code === 'string' ? code : 'unknown'}`];
  if (typeof table === 'string') parts.push(`table ${table}`);
  if (typeof column === 'string') parts.push(`column ${column}`);
  if (typeof constraint === 'string') parts.push(`constraint ${constraint}`);
  return parts.join(', ');
}

function shortenQuery(query: string): string {
  const compact = query.replace(/\s+/g, ' ').trim();
  return compact.length > MAX_QUERY_LOG_LENGTH ? `${compact.slice(0, MAX_QUERY_LOG_LENGTH)}…` : compact;
}
