import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

/** The body of every error answer. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'canonical must be one of: contact, subscribed, registration, deposit' }) message: string;
}

const DESCRIPTIONS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]: 'bad input: the message names the field and the problem',
  [HttpStatus.UNAUTHORIZED]: 'missing or invalid bearer API key',
  [HttpStatus.FORBIDDEN]:
    'the key may not do this: an account key without the scope the route needs (named in the message), a route that needs a service key, or ingest for a disabled account',
  [HttpStatus.NOT_FOUND]: "no such resource; another account's resources answer 404 too, exactly as if absent",
  [HttpStatus.CONFLICT]: 'the request conflicts with the current state (named in the message)',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'request body over 256 KiB',
  [HttpStatus.TOO_MANY_REQUESTS]: 'rate limit exceeded (per account for account keys, per key for service keys, or per client address for requests without a valid key); see Retry-After',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'database or Temporal unavailable; retry after Retry-After seconds',
};

/** Documents exactly the error answers given. */
export function ApiErrorResponses(...statuses: HttpStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorResponseDto })));
}

/**
 * Documents the error answers of a /v1 route: the common ones plus those given. The 401 comes
 * with `@Authenticated()`, which documents the route's authentication as a whole.
 */
export function ApiErrors(...statuses: HttpStatus[]): MethodDecorator & ClassDecorator {
  return ApiErrorResponses(HttpStatus.BAD_REQUEST, HttpStatus.TOO_MANY_REQUESTS, ...statuses);
}
