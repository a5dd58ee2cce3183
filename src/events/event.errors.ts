import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum EventErrorCode {
  IdempotencyKeyConflict = 'EVENT_IDEMPOTENCY_KEY_CONFLICT',
  IdempotencyKeyReused = 'EVENT_IDEMPOTENCY_KEY_REUSED',
  DepositDataMissing = 'EVENT_DEPOSIT_DATA_MISSING',
}

export class EventError extends DomainError<EventErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case EventErrorCode.IdempotencyKeyConflict:
      case EventErrorCode.DepositDataMissing:
        return HttpStatus.BAD_REQUEST;
      case EventErrorCode.IdempotencyKeyReused:
        return HttpStatus.CONFLICT;
    }
  }
}
