import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum OperationalWebhookErrorCode {
  UrlRefused = 'OPERATIONAL_WEBHOOK_URL_REFUSED',
  NotConfigured = 'OPERATIONAL_WEBHOOK_NOT_CONFIGURED',
}

export class OperationalWebhookError extends DomainError<OperationalWebhookErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case OperationalWebhookErrorCode.UrlRefused:
        return HttpStatus.BAD_REQUEST;
      // The request is valid; the account's state refuses it until it sets an operational_webhook_url.
      case OperationalWebhookErrorCode.NotConfigured:
        return HttpStatus.CONFLICT;
    }
  }
}
