import { Body, Controller, Headers, HttpCode, HttpStatus, Post, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { Authenticated } from '../common/route-access.decorator.js';
import { IngestEventDto, IngestEventResponseDto } from './dto/event.dto.js';
import { IngestLatencyInterceptor } from '../metrics/ingest-latency.interceptor.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@Authenticated()
@Controller('v1/events')
@UseInterceptors(IngestLatencyInterceptor)
@ApiErrors(HttpStatus.CONFLICT, HttpStatus.PAYLOAD_TOO_LARGE, HttpStatus.SERVICE_UNAVAILABLE)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'alternative to the body id' })
  ingest(@Body() dto: IngestEventDto, @Headers('idempotency-key') idempotencyKey?: string): Promise<IngestEventResponseDto> {
    return this.events.ingest(dto, idempotencyKey);
  }
}
