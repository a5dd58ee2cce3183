import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum DeliveryErrorCode {
  NotFound = 'DELIVERY_NOT_FOUND',
  DispatchUnavailable = 'DELIVERY_DISPATCH_UNAVAILABLE',
}

export class DeliveryError extends DomainError<DeliveryErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case DeliveryErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case DeliveryErrorCode.DispatchUnavailable:
        return HttpStatus.SERVICE_UNAVAILABLE;
    }
  }

  override get retryAfterSeconds(): number | undefined {
    return this.code === DeliveryErrorCode.DispatchUnavailable ? 5 : undefined;
  }
}
