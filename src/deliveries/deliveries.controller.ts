import { BadRequestException, Controller, Get, Param, type PipeTransform } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryDetailDto } from './dto/delivery-response.dto.js';

const EVENT_ID = /^[0-9a-f]{32}$/;

class ParseEventIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!EVENT_ID.test(value)) throw new BadRequestException('event_id must be 32 lowercase hex characters');
    return value;
  }
}

@ApiTags('deliveries')
@ApiBearerAuth()
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get(':event_id')
  get(@Param('event_id', ParseEventIdPipe) eventId: string): Promise<DeliveryDetailDto> {
    return this.deliveries.get(eventId);
  }
}
