import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Client } from '@temporalio/client';

const TEMPORAL_CHECK_TIMEOUT_MS = 2000;

/** Temporal is ready when its frontend answers a cheap system-info call within the timeout. */
@Injectable()
export class TemporalHealthIndicator {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy(key: 'temporal') {
    const indicator = this.health.check(key);
    try {
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CHECK_TIMEOUT_MS, () =>
        this.temporal.workflowService.getSystemInfo({}),
      );
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: `Temporal unreachable: ${(error as Error).message.split('\n')[0]}` });
    }
  }
}
