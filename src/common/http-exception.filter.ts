import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailableError } from '../database/database-errors.js';
import { describeDatabaseError } from '../database/query-logger.js';
import { describeTemporalError, isTemporalUnavailableError, TEMPORAL_RETRY_AFTER_SECONDS } from '../temporal/temporal-errors.js';
import { DomainError } from './domain-error.js';

/** What a client should wait before repeating a request that found the database unavailable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Every error leaves as `{ statusCode, message }`. Body-parser failures (malformed JSON,
 * over-large bodies) are client errors, not 500s; a database or Temporal outage is a 503 with
 * Retry-After on every route, whichever call met it; anything unexpected is logged and hidden.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { statusCode, message, headers } = this.describe(exception);
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.status(statusCode).json({ statusCode, message });
  }

  private describe(exception: unknown): { statusCode: number; message: string; headers: Record<string, string> } {
    if (exception instanceof DomainError) {
      const retryAfter = exception.retryAfterSeconds;
      const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
      // RFC 9110 §11.6.1: a 401 names the scheme the client should use.
      if (exception.httpStatus === HttpStatus.UNAUTHORIZED) headers['WWW-Authenticate'] = 'Bearer';
      return { statusCode: exception.httpStatus, message: exception.message, headers };
    }
    // Nest wraps body-parser failures in an HttpException; the parser's error is its cause.
    const parserError = ((exception as { cause?: unknown })?.cause ?? exception) as { type?: string; limit?: number; message?: string };
    if (parserError.type === 'entity.parse.failed') {
      return { statusCode: HttpStatus.BAD_REQUEST, message: `request body is not valid JSON: ${parserError.message}`, headers: {} };
    }
    if (parserError.type === 'entity.too.large') {
      return {
        statusCode: HttpStatus.PAYLOAD_TOO_LARGE,
        message: `request body exceeds the ${parserError.limit} byte limit`,
        headers: {},
      };
    }
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const message =
        typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
      return {
        statusCode: exception.getStatus(),
        message: Array.isArray(message) ? message.join('; ') : String(message),
        headers: {},
      };
    }
    if (isDatabaseUnavailableError(exception)) {
      this.logger.warn('database unavailable');
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'database unavailable, try again shortly',
        headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
      };
    }
    if (isTemporalUnavailableError(exception)) {
      this.logger.warn(`Temporal unavailable (${describeTemporalError(exception)})`);
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'Temporal unavailable, try again shortly',
        headers: { 'Retry-After': String(TEMPORAL_RETRY_AFTER_SECONDS) },
      };
    }
    const temporalFailure = describeTemporalError(exception);
    if (exception instanceof QueryFailedError) {
      // The driver's message can quote a parameter (a header value, a secret); the code and stack frames cannot.
      this.logger.error(`unexpected database error (${describeDatabaseError(exception.driverError)})\n${stackFrames(exception)}`);
    } else if (temporalFailure !== undefined) {
      // Temporal refused the request itself (an invalid argument, a permission): repeating it cannot
      // help, so it is a bug. The SDK's own message ("Failed to start Workflow") hides the
      // gRPC status in its cause, which the stack does not show.
      this.logger.error(`Temporal refused a request (${temporalFailure})\n${stackFrames(exception as Error)}`);
    } else {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, message: 'internal error', headers: {} };
  }
}

/** The stack without its first line, which repeats the message. */
function stackFrames(error: Error): string {
  return (error.stack ?? '').split('\n').slice(1).join('\n');
}
