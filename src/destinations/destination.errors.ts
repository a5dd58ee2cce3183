import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum DestinationErrorCode {
  NotFound = 'DESTINATION_NOT_FOUND',
  UrlRefused = 'DESTINATION_URL_REFUSED',
  RetryPolicyInvalid = 'DESTINATION_RETRY_POLICY_INVALID',
  LimitReached = 'DESTINATION_LIMIT_REACHED',
  /** A postback template, template secrets, success_body, format/method mix or filter that cannot work. */
  FormatInvalid = 'DESTINATION_FORMAT_INVALID',
}

export class DestinationError extends DomainError<DestinationErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case DestinationErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case DestinationErrorCode.UrlRefused:
      case DestinationErrorCode.RetryPolicyInvalid:
      case DestinationErrorCode.FormatInvalid:
        return HttpStatus.BAD_REQUEST;
      // The request is valid; the account's current state refuses it until a destination is deleted.
      case DestinationErrorCode.LimitReached:
        return HttpStatus.CONFLICT;
    }
  }
}
