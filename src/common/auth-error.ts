import { HttpStatus } from '@nestjs/common';
import { DomainError } from './domain-error.js';

export type AuthErrorCode = 'missing_credentials' | 'invalid_key' | 'too_many_failures';

/** Why a request to a private route was refused before it reached the controller. */
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
        return HttpStatus.UNAUTHORIZED;
      case 'too_many_failures':
        return HttpStatus.TOO_MANY_REQUESTS;
    }
  }

  override get retryAfterSeconds(): number | undefined {
    return this.waitSeconds;
  }
}
