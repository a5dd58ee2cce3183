import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum TestEventErrorCode {
  DestinationNotFound = 'TEST_EVENT_DESTINATION_NOT_FOUND',
  NotMapped = 'TEST_EVENT_NOT_MAPPED',
}

export class TestEventError extends DomainError<TestEventErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case TestEventErrorCode.DestinationNotFound:
        return HttpStatus.NOT_FOUND;
      case TestEventErrorCode.NotMapped:
        return HttpStatus.BAD_REQUEST;
    }
  }
}
