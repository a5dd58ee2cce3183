import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { TEMPORAL_RETRY_AFTER_SECONDS } from '../temporal/temporal-errors.js';

export enum RecoveryErrorCode {
  NotFound = 'RECOVERY_NOT_FOUND',
  DestinationNotFound = 'RECOVERY_DESTINATION_NOT_FOUND',
  InvalidWindow = 'RECOVERY_INVALID_WINDOW',
  AlreadyFinished = 'RECOVERY_ALREADY_FINISHED',
  /** Temporal could not be reached to start the recovery's workflow; the recovery is marked failed. */
  StartUnavailable = 'RECOVERY_START_UNAVAILABLE',
}

export class RecoveryError extends DomainError<RecoveryErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case RecoveryErrorCode.NotFound:
      case RecoveryErrorCode.DestinationNotFound:
        return HttpStatus.NOT_FOUND;
      case RecoveryErrorCode.InvalidWindow:
        return HttpStatus.BAD_REQUEST;
      case RecoveryErrorCode.AlreadyFinished:
        return HttpStatus.CONFLICT;
      case RecoveryErrorCode.StartUnavailable:
        return HttpStatus.SERVICE_UNAVAILABLE;
    }
  }

  override get retryAfterSeconds(): number | undefined {
    return this.code === RecoveryErrorCode.StartUnavailable ? TEMPORAL_RETRY_AFTER_SECONDS : undefined;
  }
}
