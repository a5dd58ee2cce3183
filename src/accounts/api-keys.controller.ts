import { BadRequestException, Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated, ServiceOnly } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyResponseDto, CreateApiKeyDto, CreatedApiKeyResponseDto } from './dto/api-key.dto.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') });

/** Keys are issued and revoked by XTRACKER's backend: an account key cannot mint or list keys. */
@ApiTags('api-keys')
@Authenticated()
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@Controller('v1/accounts/:account_id/api-keys')
@ServiceOnly()
@ApiErrors(HttpStatus.SERVICE_UNAVAILABLE)
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  create(@TenantAccount() account: TenantAccountContext, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponseDto> {
    return this.keys.create(account.id, dto);
  }

  @Get()
  list(@TenantAccount() account: TenantAccountContext): Promise<ApiKeyResponseDto[]> {
    return this.keys.list(account.id);
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<void> {
    return this.keys.revoke(account.id, id);
  }
}
