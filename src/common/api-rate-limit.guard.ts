import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { Request } from 'express';

/**
 * Per-API-key request limit on /v1 routes (429 with Retry-After past it). The key is tracked by
 * its hash, so the limiter's storage never holds a usable credential. The count is per process:
 * N API processes allow N times the limit.
 */
@Injectable()
export class ApiRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return !context.switchToHttp().getRequest<Request>().path.startsWith('/v1/');
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const authorization = (request as unknown as Request).headers.authorization ?? '';
    return createHash('sha256').update(authorization).digest('hex');
  }
}
