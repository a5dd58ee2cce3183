import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { finalize, type Observable } from 'rxjs';
import { ingestDuration } from './delivery-metrics.js';

/** Times each ingest request, errors included, labelled with the status it answered. */
@Injectable()
export class IngestLatencyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const stop = ingestDuration.startTimer();
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(finalize(() => response.once('finish', () => stop({ status_code: String(response.statusCode) }))));
  }
}
