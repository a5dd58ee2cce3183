import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { retentionScheduleId } from '../../contract/retention.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** How often the purge runs: rows outlive their retention by at most about this. */
const RETENTION_INTERVAL = '1 hour';

/**
 * Creates the retention Schedule when a worker starts, unless it exists: every worker tries, the
 * first one creates it, the others find it (ScheduleAlreadyRunning). Temporal then starts the
 * purge workflow hourly on this deployment's task queue, whichever worker is alive; a run still
 * going when the next is due makes the next one skip.
 */
@Injectable()
export class RetentionSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetentionSchedule.name);

  constructor(
    @Inject(Client) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { taskQueue } = this.config.temporal;
    const scheduleId = retentionScheduleId(taskQueue);
    try {
      await this.temporal.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: RETENTION_INTERVAL }] },
        action: { type: 'startWorkflow', workflowType: 'retentionWorkflow', taskQueue, args: [], workflowId: `retention-${taskQueue}` },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: RETENTION_INTERVAL },
      });
      this.logger.log(`created the retention schedule ${scheduleId} (every ${RETENTION_INTERVAL})`);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
  }
}
