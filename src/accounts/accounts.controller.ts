import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrorResponses, ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated, CreatesAccount, ServiceOnly } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { AccountsService } from './accounts.service.js';
import { AccountPageDto, AccountResponseDto, ListAccountsQueryDto, PutAccountDto, PutAccountResponseDto } from './dto/account.dto.js';
import { RotatedOperationalWebhookSecretResponseDto } from '../operational-webhooks/dto/operational-webhook.dto.js';

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
@ApiErrors(HttpStatus.SERVICE_UNAVAILABLE)
export class AccountsListController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @ServiceOnly()
  list(@Query() query: ListAccountsQueryDto): Promise<AccountPageDto> {
    return this.accounts.list(query);
  }
}

@ApiTags('accounts')
@Authenticated()
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@Controller('v1/accounts/:account_id')
@ApiErrors(HttpStatus.SERVICE_UNAVAILABLE)
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** 201 when the id is new, 200 when it updated an existing account. The guard has checked the id. */
  @Put()
  @CreatesAccount()
  @ApiCreatedResponse({ type: PutAccountResponseDto, description: 'created' })
  @ApiOkResponse({ type: PutAccountResponseDto, description: 'updated' })
  async put(@Param('account_id') accountId: string, @Body() dto: PutAccountDto, @Res({ passthrough: true }) response: Response): Promise<PutAccountResponseDto> {
    const { account, created } = await this.accounts.put(accountId, dto);
    response.status(created ? 201 : 200);
    return account;
  }

  /** An account key with `read` may look at its own account (is it enabled, what are its limits). */
  @Get()
  get(@TenantAccount() account: TenantAccountContext): Promise<AccountResponseDto> {
    return this.accounts.get(account.id);
  }

  @Delete()
  @ServiceOnly()
  @HttpCode(204)
  remove(@TenantAccount() account: TenantAccountContext): Promise<void> {
    return this.accounts.remove(account.id);
  }

  /**
   * Service keys, and account keys with `manage` (the default scope of a POST), like a
   * destination's rotate-secret: the account's own systems verify these notifications. 409 while
   * the account has no operational_webhook_url.
   */
  @Post('operational-webhook/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedOperationalWebhookSecretResponseDto })
  @ApiErrorResponses(HttpStatus.CONFLICT)
  rotateOperationalWebhookSecret(@TenantAccount() account: TenantAccountContext): Promise<RotatedOperationalWebhookSecretResponseDto> {
    return this.accounts.rotateOperationalWebhookSecret(account.id);
  }
}
