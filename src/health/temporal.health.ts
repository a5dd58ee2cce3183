import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthCheckAttempt } from '@nestjs/terminus';
import { Client } from '@temporalio/client';

const TEMPORAL_CHECK_TIMEOUT_MS = 2000;

/** Temporal is ready when its frontend answers a cheap system-info call within the timeout. */
@Injectable()
export class TemporalHealthIndicator {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    private readonly health: HealthIndicatorService,
  ) {}

  /** Down carries the gRPC error's message: for the log, never for the /ready body. */
  isHealthy(key: 'temporal', cacheMs: number): HealthCheckAttempt<'temporal'> {
    return this.health
      .check(key)
      .attempt(async () => {
        try {
          await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CHECK_TIMEOUT_MS, () => this.temporal.workflowService.getSystemInfo({}));
        } catch (error) {
          throw new Error(`Temporal unreachable: ${(error as Error).message.split('\n')[0]}`, { cause: error });
        }
      })
      .cacheFor(cacheMs);
  }
}
