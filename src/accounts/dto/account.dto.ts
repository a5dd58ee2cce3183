import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { MAX_IN_FLIGHT_LIMIT, MAX_RATE_LIMIT_PER_SECOND, MAX_URL_LENGTH, MIN_RATE_LIMIT_PER_SECOND } from '../../destinations/dto/destination-request.dto.js';
import { IsNotNull, IsOmittable, IsPlainText } from '../../destinations/dto/destination-validators.js';
import { PageQueryDto } from '../../common/page-query.dto.js';

/** An hour at the least: shorter, one bad deploy on the receiver's side would disable it. */
export const MIN_AUTO_DISABLE_AFTER_MS = 3_600_000;
export const MAX_AUTO_DISABLE_AFTER_MS = 365 * 86_400_000;

/** Ten years: the most RETENTION_DAYS and an account's retention_days accept (the migration's CHECK too). */
export const MAX_RETENTION_DAYS = 3650;

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

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: MIN_RATE_LIMIT_PER_SECOND, maximum: MAX_RATE_LIMIT_PER_SECOND, description: 'requests per second for each destination that sets none; null = DEFAULT_RATE_LIMIT_PER_SECOND (unset: no limit)' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(MIN_RATE_LIMIT_PER_SECOND) @Max(MAX_RATE_LIMIT_PER_SECOND)
  default_rate_limit_per_second?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: 1, maximum: MAX_IN_FLIGHT_LIMIT, description: 'attempts in flight at once for each destination that sets none; null = DEFAULT_MAX_IN_FLIGHT (20)' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_IN_FLIGHT_LIMIT)
  default_max_in_flight?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: MIN_AUTO_DISABLE_AFTER_MS, maximum: MAX_AUTO_DISABLE_AFTER_MS, description: 'a destination failing without a success for this long is disabled; null = AUTO_DISABLE_AFTER_MS (5 days)' })
  @IsOptional() @IsInt() @Min(MIN_AUTO_DISABLE_AFTER_MS) @Max(MAX_AUTO_DISABLE_AFTER_MS)
  auto_disable_after_ms?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: 1, maximum: MAX_RETENTION_DAYS, description: 'days deliveries, their attempts and events are kept before the hourly purge removes them (never an open delivery); null = RETENTION_DAYS (30)' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_RETENTION_DAYS)
  retention_days?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    maxLength: MAX_URL_LENGTH,
    example: 'https://ops.example.com/xtracker',
    description:
      'where the account\'s operational notifications (destination.failing, destination.recovered, destination.disabled, delivery.exhausted) are POSTed, signed like deliveries; http(s), no credentials, public address only. The first URL set issues operational_webhook_secret, returned once in that response; null removes the URL and its secret',
  })
  @IsOptional() @IsString() @MaxLength(MAX_URL_LENGTH) @IsPlainText()
  operational_webhook_url?: string | null;
}

export class AccountResponseDto {
  @ApiProperty({ example: 'acme-42', pattern: '^[A-Za-z0-9._:-]{1,64}$' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'effective: the override, or RATE_LIMIT_PER_MINUTE; 0 = unlimited' }) rate_limit_per_minute: number;
  @ApiProperty({ description: 'effective: the override, or MAX_DESTINATIONS' }) max_destinations: number;
  @ApiProperty({ nullable: true, type: Number, description: 'effective: the override, or DEFAULT_RATE_LIMIT_PER_SECOND; null = no limit' }) default_rate_limit_per_second: number | null;
  @ApiProperty({ description: 'effective: the override, or DEFAULT_MAX_IN_FLIGHT' }) default_max_in_flight: number;
  @ApiProperty({ nullable: true, type: Number, description: 'effective: the override, or AUTO_DISABLE_AFTER_MS; null = never' }) auto_disable_after_ms: number | null;
  @ApiProperty({ description: 'effective: the override, or RETENTION_DAYS' }) retention_days: number;
  @ApiProperty({ nullable: true, type: String, description: 'where operational notifications go; null when none is set. Its secret is never shown here' })
  operational_webhook_url: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

/** The PUT answer: the account, and the operational webhook secret at the one moment it is generated. */
export class PutAccountResponseDto extends AccountResponseDto {
  @ApiPropertyOptional({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'present only in the response of the PUT that set a first operational_webhook_url: store it now, it is never shown again (POST …/operational-webhook/rotate-secret issues a new one)',
  })
  operational_webhook_secret?: string;
}

export class ListAccountsQueryDto extends PageQueryDto {}

export class AccountPageDto {
  @ApiProperty({ type: [AccountResponseDto] }) items: AccountResponseDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as cursor to get the next page; null on the last page' })
  next_cursor: string | null;
}
