import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';

export enum AccountErrorCode {
  InvalidId = 'ACCOUNT_INVALID_ID',
  /** Also the answer for another account's path: an account key cannot tell the two apart. */
  NotFound = 'ACCOUNT_NOT_FOUND',
  InvalidCursor = 'ACCOUNT_INVALID_CURSOR',
  Disabled = 'ACCOUNT_DISABLED',
  ApiKeyNotFound = 'ACCOUNT_API_KEY_NOT_FOUND',
}

export class AccountError extends DomainError<AccountErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case AccountErrorCode.InvalidId:
      case AccountErrorCode.InvalidCursor:
        return HttpStatus.BAD_REQUEST;
      case AccountErrorCode.NotFound:
      case AccountErrorCode.ApiKeyNotFound:
        return HttpStatus.NOT_FOUND;
      // The key is valid and may ingest; the account's state refuses it until it is enabled again.
      case AccountErrorCode.Disabled:
        return HttpStatus.FORBIDDEN;
    }
  }
}

/** One wording for an unknown account and a foreign one, so the two answers are byte for byte the same. */
export function accountNotFound(accountId: string): AccountError {
  return new AccountError(AccountErrorCode.NotFound, `account ${accountId} not found`);
}
