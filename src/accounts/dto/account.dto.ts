import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsBoolean, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsNotNull, IsOmittable, IsPlainText } from '../../destinations/dto/destination-validators.js';
import { PageQueryDto } from '../../common/page-query.dto.js';

/** The range MAX_DESTINATIONS accepts, for the same reason: beyond it one event fans out too far. */
export const MAX_DESTINATIONS_OVERRIDE = 10_000;
/** A request per 60 µs per process: beyond it the limit is no limit, so say 0 (off) instead. */
export const MAX_RATE_LIMIT_OVERRIDE = 1_000_000;

/**
 * PUT /v1/accounts/{account_id}. The limits are per-account overrides: left out, they stay as they
 * are (on a new account: the configured defaults); null puts the configured default back.
 */
export class PutAccountDto {
  @ApiProperty({ example: 'Acme Media', maxLength: 200 })
  @IsNotNull() @IsString() @Length(1, 200) @IsPlainText()
  name: string;

  @ApiPropertyOptional({ default: true, description: 'left out: true on create, unchanged on update. A disabled account cannot ingest (403) and its deliveries are held' })
  @IsOmittable() @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: 0, maximum: MAX_RATE_LIMIT_OVERRIDE, description: 'requests per minute for all of the account\'s keys together; 0 = unlimited; null = RATE_LIMIT_PER_MINUTE' })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_RATE_LIMIT_OVERRIDE)
  rate_limit_per_minute?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: 1, maximum: MAX_DESTINATIONS_OVERRIDE, description: 'live destinations (and fan-out of one event); null = MAX_DESTINATIONS' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_DESTINATIONS_OVERRIDE)
  max_destinations?: number | null;
}

export class AccountResponseDto {
  @ApiProperty({ example: 'acme-42', pattern: '^[A-Za-z0-9._:-]{1,64}$' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'effective: the override, or RATE_LIMIT_PER_MINUTE; 0 = unlimited' }) rate_limit_per_minute: number;
  @ApiProperty({ description: 'effective: the override, or MAX_DESTINATIONS' }) max_destinations: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class ListAccountsQueryDto extends PageQueryDto {}

export class AccountPageDto {
  @ApiProperty({ type: [AccountResponseDto] }) items: AccountResponseDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as cursor to get the next page; null on the last page' })
  next_cursor: string | null;
}
