import { HttpStatus } from '@nestjs/common';
import { DomainError } from './domain-error.js';

export type AuthErrorCode = 'missing_credentials' | 'invalid_key' | 'invalid_session' | 'too_many_failures';

/**
 * Why a request to a private route was refused before anyone was identified. These, and only
 * these, count against the client address (FailedAuthLimiter).
 */
export class AuthError extends DomainError<AuthErrorCode> {
  constructor(
    code: AuthErrorCode,
    message: string,
    private readonly waitSeconds?: number,
  ) {
    super(code, message);
  }

  get httpStatus(): number {
    switch (this.code) {
      case 'missing_credentials':
      case 'invalid_key':
      case 'invalid_session':
        return HttpStatus.UNAUTHORIZED;
      case 'too_many_failures':
        return HttpStatus.TOO_MANY_REQUESTS;
    }
  }

  override get retryAfterSeconds(): number | undefined {
    return this.waitSeconds;
  }
}

export enum AccessErrorCode {
  /** An account key on a route that needs a service key (accounts, keys, anything outside an account). */
  ServiceKeyRequired = 'ACCESS_SERVICE_KEY_REQUIRED',
  ScopeMissing = 'ACCESS_SCOPE_MISSING',
  /** A portal session on a route only keys may call (minting portal links: a session must not extend itself). */
  KeyRequired = 'ACCESS_KEY_REQUIRED',
  /** A write made with a portal session cookie without the session's CSRF token. */
  CsrfTokenInvalid = 'ACCESS_CSRF_TOKEN_INVALID',
}

/**
 * Why an identified key may not call a route. Never for another account's path: that is a 404
 * (AccountError), exactly as if the account did not exist.
 */
export class AccessError extends DomainError<AccessErrorCode> {
  get httpStatus(): number {
    switch (this.code) {
      case AccessErrorCode.ServiceKeyRequired:
      case AccessErrorCode.ScopeMissing:
      case AccessErrorCode.KeyRequired:
      case AccessErrorCode.CsrfTokenInvalid:
        return HttpStatus.FORBIDDEN;
    }
  }
}
