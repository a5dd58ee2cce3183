import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { SendTestEventDto, TestDeliveryDto } from './dto/test-event.dto.js';
import { TestEventsService } from './test-events.service.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('destination_id must be a UUID') });

@ApiTags('destinations')
@Authenticated()
@Controller('v1/accounts/:account_id/destinations/:destination_id/test')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.NOT_FOUND, HttpStatus.SERVICE_UNAVAILABLE)
export class TestEventsController {
  constructor(private readonly testEvents: TestEventsService) {}

  /** Sends a sample event in the seed's exact shape through the real delivery path, marked `webhook-test: true`. */
  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: TestDeliveryDto })
  send(
    @TenantAccount() account: TenantAccountContext,
    @Param('destination_id', uuid) destinationId: string,
    @Body() dto: SendTestEventDto,
  ): Promise<TestDeliveryDto> {
    return this.testEvents.send(account.id, destinationId, dto.canonical);
  }
}
