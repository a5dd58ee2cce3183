import { Body, Controller, Headers, HttpCode, HttpStatus, Post, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated, RequireScope } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { IngestLatencyInterceptor } from '../metrics/ingest-latency.interceptor.js';
import { IngestEventDto, IngestEventResponseDto } from './dto/event.dto.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@Authenticated()
@Controller('v1/accounts/:account_id/events')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@UseInterceptors(IngestLatencyInterceptor)
@ApiErrors(HttpStatus.CONFLICT, HttpStatus.PAYLOAD_TOO_LARGE, HttpStatus.SERVICE_UNAVAILABLE)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @RequireScope('ingest')
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'alternative to the body id; unique per account' })
  ingest(
    @TenantAccount() account: TenantAccountContext,
    @Body() dto: IngestEventDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<IngestEventResponseDto> {
    return this.events.ingest(account, dto, idempotencyKey);
  }
}
