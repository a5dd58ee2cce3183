import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { RECOVERABLE_STATUSES, recoveryWorkflowId, type RecoveryWorkflowInput } from '../../contract/recovery.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TEMPORAL_CALL_DEADLINE_MS } from '../deliveries/delivery-dispatcher.js';
import { DestinationRepository } from '../destinations/destination.repository.js';
import { isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import type { RecoverRequestDto, RecoveryCreatedDto, RecoveryDto } from './dto/recovery.dto.js';
import { RecoveryError, RecoveryErrorCode } from './recovery.errors.js';
import { RecoveryRepository, type Recovery } from './recovery.repository.js';

/** Bulk recoveries: stored, then run by their own workflow, which records its progress in the row. */
@Injectable()
export class RecoveriesService {
  private readonly logger = new Logger(RecoveriesService.name);

  constructor(
    private readonly recoveries: RecoveryRepository,
    private readonly destinations: DestinationRepository,
    @Inject(Client) private readonly temporal: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `destinationId` null: every destination of the account, deleted ones included (their deliveries are counted as skipped). */
  async start(accountId: string, destinationId: string | null, dto: RecoverRequestDto): Promise<RecoveryCreatedDto> {
    if (dto.until !== undefined && Date.parse(dto.until) <= Date.parse(dto.since)) {
      throw new RecoveryError(RecoveryErrorCode.InvalidWindow, 'until must be after since');
    }
    if (destinationId !== null && !(await this.destinations.findLive(accountId, destinationId))) {
      throw new RecoveryError(RecoveryErrorCode.DestinationNotFound, `destination ${destinationId} not found`);
    }
    const recovery = await this.recoveries.create(accountId, {
      destinationId,
      since: dto.since,
      until: dto.until ?? null,
      statuses: dto.statuses ? [...new Set(dto.statuses)] : RECOVERABLE_STATUSES,
    });
    const input: RecoveryWorkflowInput = { recoveryId: recovery.id, accountId };
    try {
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () =>
        this.temporal.workflow.start('recoveryWorkflow', {
          workflowId: recoveryWorkflowId(recovery.id),
          taskQueue: this.config.temporal.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { account_id: accountId },
        }),
      );
    } catch (error) {
      // A stored recovery without its workflow would say `running` for ever.
      await this.recoveries.finish(accountId, recovery.id, 'failed', 'its workflow could not be started');
      if (isTemporalUnavailableError(error)) {
        throw new RecoveryError(RecoveryErrorCode.StartUnavailable, 'Temporal is unavailable: the recovery was not started; request it again');
      }
      throw error;
    }
    this.logger.log(`recovery ${recovery.id} started${destinationId ? ` for destination ${destinationId}` : ' for every destination'}`);
    return { id: recovery.id };
  }

  async get(accountId: string, id: string): Promise<RecoveryDto> {
    return toRecoveryDto(await this.findOrFail(accountId, id));
  }

  /**
   * Marks it cancelled (the workflow's next page sees that and stops), then cancels the workflow so
   * a page in progress stops at its next batch. Deliveries already retried stay retried.
   */
  async cancel(accountId: string, id: string): Promise<RecoveryDto> {
    await this.findOrFail(accountId, id);
    if (!(await this.recoveries.finish(accountId, id, 'cancelled'))) {
      const current = await this.findOrFail(accountId, id);
      throw new RecoveryError(RecoveryErrorCode.AlreadyFinished, `recovery ${id} is already ${current.state}`);
    }
    try {
      await this.temporal.connection.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, () => this.temporal.workflow.getHandle(recoveryWorkflowId(id)).cancel());
    } catch (error) {
      // Closed meanwhile, or Temporal away: the row says cancelled, and the next page reads the row.
      if (!(error instanceof WorkflowNotFoundError) && !isTemporalUnavailableError(error)) throw error;
    }
    this.logger.log(`recovery ${id} cancelled`);
    return toRecoveryDto(await this.findOrFail(accountId, id));
  }

  /** Another account's recovery is not found, exactly like one that does not exist. */
  private async findOrFail(accountId: string, id: string): Promise<Recovery> {
    const recovery = await this.recoveries.find(accountId, id);
    if (!recovery) throw new RecoveryError(RecoveryErrorCode.NotFound, `recovery ${id} not found`);
    return recovery;
  }
}

function toRecoveryDto(recovery: Recovery): RecoveryDto {
  return {
    id: recovery.id,
    state: recovery.state,
    total: recovery.total,
    matched: recovery.matched,
    retried: recovery.retried,
    skipped: recovery.skipped,
    skipped_destination_deleted: recovery.destinationDeleted,
    since: recovery.since.toISOString(),
    until: recovery.until?.toISOString() ?? null,
    statuses: recovery.statuses,
    destination_id: recovery.destinationId,
    error: recovery.error,
    created_at: recovery.createdAt.toISOString(),
    finished_at: recovery.finishedAt?.toISOString() ?? null,
  };
}
