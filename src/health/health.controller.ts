import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { TemporalHealthIndicator } from './temporal.health.js';

const DATABASE_CHECK_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly temporal: TemporalHealthIndicator,
  ) {}

  /** Liveness: the process answers. Restarting it would not fix a database outage, so nothing else is checked. */
  @Get('health')
  @HttpCode(200)
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database and Temporal both answer; 503 names what is down. */
  @Get('ready')
  @ApiOkResponse({ schema: { example: { status: 'ok', details: { database: { status: 'up' }, temporal: { status: 'up' } } } } })
  @ApiServiceUnavailableResponse({ schema: { example: { statusCode: 503, message: 'not ready: database is down', details: {} } } })
  async ready(@Res({ passthrough: true }) response: Response): Promise<object> {
    try {
      const result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: DATABASE_CHECK_TIMEOUT_MS }),
        () => this.temporal.isHealthy('temporal'),
      ]);
      return { status: result.status, details: result.details };
    } catch (error) {
      const result = (error as { getResponse?: () => HealthCheckResult }).getResponse?.();
      if (!result?.details) throw error;
      const down = Object.entries(result.details)
        .filter(([, detail]) => detail.status === 'down')
        .map(([name]) => name);
      response.status(503);
      return { statusCode: 503, message: `not ready: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} down`, details: result.details };
    }
  }
}
