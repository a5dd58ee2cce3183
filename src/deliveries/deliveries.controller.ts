import { BadRequestException, Body, Controller, HttpStatus, Get, HttpCode, Param, Post, Query, type PipeTransform } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryControlService } from './delivery-control.service.js';
import { DeliveryActionResponseDto, DeliveryDetailDto } from './dto/delivery-response.dto.js';
import { DeliveryPageDto, ListDeliveriesQueryDto } from './dto/list-deliveries.dto.js';
import { RetryDeliveryDto } from './dto/retry-delivery.dto.js';

const EVENT_ID = /^[0-9a-f]{32}$/;

class ParseEventIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!EVENT_ID.test(value)) throw new BadRequestException('event_id must be 32 lowercase hex characters');
    return value;
  }
}

@ApiTags('deliveries')
@Authenticated()
@Controller('v1/accounts/:account_id/deliveries')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.NOT_FOUND, HttpStatus.CONFLICT, HttpStatus.SERVICE_UNAVAILABLE)
export class DeliveriesController {
  constructor(
    private readonly deliveries: DeliveriesService,
    private readonly control: DeliveryControlService,
  ) {}

  @Get()
  list(@TenantAccount() account: TenantAccountContext, @Query() query: ListDeliveriesQueryDto): Promise<DeliveryPageDto> {
    return this.deliveries.list(account.id, query);
  }

  @Get(':event_id')
  get(@TenantAccount() account: TenantAccountContext, @Param('event_id', ParseEventIdPipe) eventId: string): Promise<DeliveryDetailDto> {
    return this.deliveries.get(account.id, eventId);
  }

  @Post(':event_id/cancel')
  @HttpCode(202)
  cancel(@TenantAccount() account: TenantAccountContext, @Param('event_id', ParseEventIdPipe) eventId: string): Promise<DeliveryActionResponseDto> {
    return this.control.cancel(account.id, eventId);
  }

  @Post(':event_id/retry')
  @HttpCode(202)
  retry(
    @TenantAccount() account: TenantAccountContext,
    @Param('event_id', ParseEventIdPipe) eventId: string,
    @Body() dto: RetryDeliveryDto,
  ): Promise<DeliveryActionResponseDto> {
    return this.control.retry(account.id, eventId, { force: dto.force === true });
  }
}
