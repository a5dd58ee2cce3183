import { Controller, Get, HttpCode, Logger, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { PublicRoute } from '../common/route-access.decorator.js';
import { TemporalHealthIndicator } from './temporal.health.js';

const DATABASE_CHECK_TIMEOUT_MS = 2000;
/** /ready is public and unlimited: a flood of probes costs at most one check of each dependency a second. */
const READY_CHECK_CACHE_MS = 1000;

type DependencyStatus = Record<string, { status: string }>;

@ApiTags('health')
@PublicRoute()
@Controller()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

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

  /**
   * Readiness: the database and Temporal both answer; 503 names what is down and nothing more.
   * The reason (a driver or gRPC message: host names, ports, database names) goes to the log only,
   * since anyone may call this route.
   */
  @Get('ready')
  @ApiOkResponse({ schema: { example: { status: 'ok', details: { database: { status: 'up' }, temporal: { status: 'up' } } } } })
  @ApiServiceUnavailableResponse({
    schema: { example: { statusCode: 503, message: 'not ready: database is down', details: { database: { status: 'down' }, temporal: { status: 'up' } } } },
  })
  async ready(@Res({ passthrough: true }) response: Response): Promise<object> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: DATABASE_CHECK_TIMEOUT_MS }).cacheFor(READY_CHECK_CACHE_MS),
        () => this.temporal.isHealthy('temporal', READY_CHECK_CACHE_MS),
      ]);
    } catch (error) {
      const failed = (error as { getResponse?: () => HealthCheckResult }).getResponse?.();
      if (!failed?.details) throw error;
      result = failed;
    }
    const details = statusOnly(result.details);
    if (result.status === 'ok') return { status: result.status, details };

    const down = Object.keys(details).filter((name) => details[name]!.status === 'down');
    for (const name of down) this.logger.warn(`not ready: ${name} is down (${String(result.details[name]?.message ?? 'no reason given')})`);
    response.status(503);
    const message = down.length === 0 ? 'not ready: shutting down' : `not ready: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} down`;
    return { statusCode: 503, message, details };
  }
}

/** Each dependency's status alone: the indicators add error messages and timings that are not for the public. */
function statusOnly(details: HealthIndicatorResult): DependencyStatus {
  return Object.fromEntries(Object.entries(details).map(([name, detail]) => [name, { status: String(detail.status) }]));
}
