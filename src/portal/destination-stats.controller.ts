import { BadRequestException, Controller, Get, HttpStatus, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { ACCOUNT_ID_PARAM, Authenticated } from '../common/route-access.decorator.js';
import { TenantAccount, type TenantAccountContext } from '../common/tenant-account.js';
import { DestinationStatsService } from './destination-stats.service.js';
import { DEFAULT_STATS_HOURS, DestinationStatsDto, DestinationStatsQueryDto } from './dto/destination-stats.dto.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') });

/** Read-only aggregate for the portal's health view; any `read` key may use it too. */
@ApiTags('destinations')
@Authenticated()
@Controller('v1/accounts/:account_id/destinations')
@ApiParam({ name: ACCOUNT_ID_PARAM, description: "the account, by the caller's own id ([A-Za-z0-9._:-], 1-64 characters)", example: 'acme-media' })
@ApiErrors(HttpStatus.NOT_FOUND)
export class DestinationStatsController {
  constructor(private readonly stats: DestinationStatsService) {}

  @Get(':id/stats')
  hourly(@TenantAccount() account: TenantAccountContext, @Param('id', uuid) id: string, @Query() query: DestinationStatsQueryDto): Promise<DestinationStatsDto> {
    return this.stats.hourly(account.id, id, query.hours ?? DEFAULT_STATS_HOURS);
  }
}
