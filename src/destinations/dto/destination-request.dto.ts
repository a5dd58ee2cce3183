import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import type { CanonicalEvent } from '../../common/canonical-event.js';
import { DESTINATION_METHODS, type DestinationMethod } from '../destination.entity.js';
import { IsEventMap, IsHeaderMap } from './destination-validators.js';

export const MAX_URL_LENGTH = 2048;
const DAY_MS = 86_400_000;

export class RetryPolicyDto {
  @ApiPropertyOptional({ minimum: 100, example: 10_000 })
  @IsOptional() @IsInt() @Min(100) @Max(DAY_MS)
  initial_interval_ms?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10, example: 2 })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(1) @Max(10)
  backoff_coefficient?: number;

  @ApiPropertyOptional({ minimum: 100, example: 3_600_000 })
  @IsOptional() @IsInt() @Min(100) @Max(DAY_MS)
  max_interval_ms?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1000, description: '0 = unlimited within max_age_ms' })
  @IsOptional() @IsInt() @Min(0) @Max(1000)
  max_attempts?: number;

  @ApiPropertyOptional({ minimum: 1000, maximum: 30 * DAY_MS, example: 259_200_000 })
  @IsOptional() @IsInt() @Min(1000) @Max(30 * DAY_MS)
  max_age_ms?: number;
}

export class CreateDestinationDto {
  @ApiProperty({ example: 'Meta CAPI relay', maxLength: 200 })
  @IsString() @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'https://hooks.example.com/xt', description: 'http(s), no credentials, public address only' })
  @IsString() @MaxLength(MAX_URL_LENGTH)
  url: string;

  @ApiPropertyOptional({ enum: DESTINATION_METHODS, default: 'POST' })
  @IsOptional() @IsIn(DESTINATION_METHODS)
  method?: DestinationMethod;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { 'X-Shared-Secret': 's3cr3t' }, description: 'write-only: values are masked in responses' })
  @IsOptional() @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { deposit: 'Purchase', registration: 'CompleteRegistration' } })
  @IsDefined() @IsEventMap()
  event_map: Partial<Record<CanonicalEvent, string>>;

  @ApiPropertyOptional({ default: true })
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ minimum: 100, maximum: 60_000, description: 'per-attempt timeout; default DELIVERY_TIMEOUT_MS' })
  @IsOptional() @IsInt() @Min(100) @Max(60_000)
  timeout_ms?: number;

  @ApiPropertyOptional({ type: RetryPolicyDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => RetryPolicyDto)
  retry_policy?: RetryPolicyDto;
}

export class UpdateDestinationDto extends PartialType(CreateDestinationDto) {}
