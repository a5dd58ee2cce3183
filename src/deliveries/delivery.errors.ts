import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { TEMPORAL_RETRY_AFTER_SECONDS } from '../temporal/temporal-errors.js';

export enum DeliveryErrorCode {
  NotFound = 'DELIVERY_NOT_FOUND',
  /** Temporal could not be reached to start a stored delivery; never for a start Temporal refused. */
  DispatchUnavailable = 'DELIVERY_DISPATCH_UNAVAILABLE',
  InvalidCursor = 'DELIVERY_INVALID_CURSOR',
  AlreadyFinished = 'DELIVERY_ALREADY_FINISHED',
  NotRetryable = 'DELIVERY_NOT_RETRYABLE',
}

export class DeliveryError extends DomainError<DeliveryErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case DeliveryErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case DeliveryErrorCode.DispatchUnavailable:
        return HttpStatus.SERVICE_UNAVAILABLE;
      case DeliveryErrorCode.InvalidCursor:
        return HttpStatus.BAD_REQUEST;
      case DeliveryErrorCode.AlreadyFinished:
      case DeliveryErrorCode.NotRetryable:
        return HttpStatus.CONFLICT;
    }
  }

  override get retryAfterSeconds(): number | undefined {
    return this.code === DeliveryErrorCode.DispatchUnavailable ? TEMPORAL_RETRY_AFTER_SECONDS : undefined;
  }
}
