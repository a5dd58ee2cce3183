import { BadRequestException, Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { RecoverRequestDto, RecoveryCreatedDto, RecoveryDto } from './dto/recovery.dto.js';
import { RecoveriesService } from './recoveries.service.js';

const uuid = (name: string) => new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name} must be a UUID`) });

@ApiTags('recoveries')
@Authenticated()
@Controller('v1/accounts/:account_id')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.NOT_FOUND, HttpStatus.CONFLICT, HttpStatus.SERVICE_UNAVAILABLE)
export class RecoveriesController {
  constructor(private readonly recoveries: RecoveriesService) {}

  /** Retries every failed, skipped or cancelled delivery of the destination in the window, in the background. */
  @Post('destinations/:destination_id/recover')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RecoveryCreatedDto })
  recoverDestination(
    @TenantAccount() account: TenantAccountContext,
    @Param('destination_id', uuid('destination_id')) destinationId: string,
    @Body() dto: RecoverRequestDto,
  ): Promise<RecoveryCreatedDto> {
    return this.recoveries.start(account.id, destinationId, dto);
  }

  /** The same across every destination of the account. */
  @Post('recover')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RecoveryCreatedDto })
  recoverAccount(@TenantAccount() account: TenantAccountContext, @Body() dto: RecoverRequestDto): Promise<RecoveryCreatedDto> {
    return this.recoveries.start(account.id, null, dto);
  }

  @Get('recoveries/:id')
  @ApiOkResponse({ type: RecoveryDto })
  get(@TenantAccount() account: TenantAccountContext, @Param('id', uuid('id')) id: string): Promise<RecoveryDto> {
    return this.recoveries.get(account.id, id);
  }

  @Post('recoveries/:id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RecoveryDto })
  cancel(@TenantAccount() account: TenantAccountContext, @Param('id', uuid('id')) id: string): Promise<RecoveryDto> {
    return this.recoveries.cancel(account.id, id);
  }
}
