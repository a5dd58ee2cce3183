import { BadRequestException, Body, HttpStatus, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { CreateDestinationDto, UpdateDestinationDto } from './dto/destination-request.dto.js';
import { CreatedDestinationResponseDto, DestinationResponseDto, RotatedSecretResponseDto } from './dto/destination-response.dto.js';
import { DestinationsService } from './destinations.service.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') });

@ApiTags('destinations')
@Authenticated()
@Controller('v1/accounts/:account_id/destinations')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.NOT_FOUND, HttpStatus.CONFLICT, HttpStatus.PAYLOAD_TOO_LARGE)
export class DestinationsController {
  constructor(private readonly destinations: DestinationsService) {}

  @Post()
  create(@TenantAccount() account: TenantAccountContext, @Body() dto: CreateDestinationDto): Promise<CreatedDestinationResponseDto> {
    return this.destinations.create(account, dto);
  }

  @Get()
  list(@TenantAccount() account: TenantAccountContext): Promise<DestinationResponseDto[]> {
    return this.destinations.list(account);
  }

  @Get(':id')
  get(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<DestinationResponseDto> {
    return this.destinations.get(account, id);
  }

  @Patch(':id')
  update(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string, @Body() dto: UpdateDestinationDto): Promise<DestinationResponseDto> {
    return this.destinations.update(account, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<void> {
    return this.destinations.remove(account.id, id);
  }

  /** Holds new and retrying deliveries (nothing fails, nothing is dropped) until resumed. */
  @Post(':id/pause')
  @HttpCode(200)
  pause(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<DestinationResponseDto> {
    return this.destinations.pause(account, id);
  }

  /** Ends a pause; the held deliveries drain at the destination's limits. */
  @Post(':id/resume')
  @HttpCode(200)
  resume(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<DestinationResponseDto> {
    return this.destinations.resume(account, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotateSecret(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string): Promise<RotatedSecretResponseDto> {
    return this.destinations.rotateSecret(account.id, id);
  }
}
