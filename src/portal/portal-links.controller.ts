import { Body, Controller, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated, KeysOnly } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { CreatePortalLinkDto, PortalLinkResponseDto } from './dto/portal-link.dto.js';
import { PortalLinksService } from './portal-links.service.js';

/** Service keys, or an account key with `manage`; never a portal session (it would outlive itself). */
@ApiTags('portal')
@Authenticated()
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@Controller('v1/accounts/:account_id/portal-links')
@KeysOnly()
@ApiErrors(HttpStatus.SERVICE_UNAVAILABLE)
export class PortalLinksController {
  constructor(private readonly links: PortalLinksService) {}

  /** The link names this API as the request reached it (behind a proxy: with TRUST_PROXY set, as the client asked for it). */
  @Post()
  create(@TenantAccount() account: TenantAccountContext, @Body() dto: CreatePortalLinkDto, @Req() request: Request): Promise<PortalLinkResponseDto> {
    return this.links.mint(account.id, dto, `${request.protocol}://${request.host}`);
  }
}
