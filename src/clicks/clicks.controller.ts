import { Body, Controller, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated, RequireScope } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { ClicksService } from './clicks.service.js';
import { ClickResponseDto, RecordClickDto } from './dto/click.dto.js';

@ApiTags('clicks')
@Authenticated()
@Controller('v1/accounts/:account_id/clicks')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.PAYLOAD_TOO_LARGE)
export class ClicksController {
  constructor(private readonly clicks: ClicksService) {}

  /** 201 when the uid is new in the account, 200 when the call merged into the account's existing click. */
  @Post()
  @RequireScope('ingest')
  async record(
    @TenantAccount() account: TenantAccountContext,
    @Body() dto: RecordClickDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ClickResponseDto> {
    const click = await this.clicks.record(account.id, dto);
    response.status(click.created ? 201 : 200);
    return click;
  }
}
