import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { CANONICAL_EVENTS, type CanonicalEvent } from '../../common/canonical-event.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.js';
import { DeliveryDto } from './delivery-response.dto.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID(undefined, { message: 'destination_id must be a UUID' })
  destination_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional() @IsIn(DELIVERY_STATUSES, { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ enum: CANONICAL_EVENTS })
  @IsOptional() @IsIn(CANONICAL_EVENTS, { message: `canonical must be one of: ${CANONICAL_EVENTS.join(', ')}` })
  canonical?: CanonicalEvent;

  @ApiPropertyOptional({ description: 'only deliveries created at or after this ISO 8601 time' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'created_after must be an ISO 8601 date-time' })
  created_after?: string;

  @ApiPropertyOptional({ description: 'only deliveries created before this ISO 8601 time' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'created_before must be an ISO 8601 date-time' })
  created_before?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be a whole number' }) @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as cursor to get the next page; null on the last page' })
  next_cursor: string | null;
}
