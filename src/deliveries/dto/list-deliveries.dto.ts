import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { IsIn, IsOptional, IsUUID, ValidateBy } from 'class-validator';
import { isRfc3339DateTime } from '../../common/calendar.js';
import { CANONICAL_EVENTS, type CanonicalEvent } from '../../common/canonical-event.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.js';
import { DeliveryDto } from './delivery-response.dto.js';
import { PageQueryDto } from '../../common/page-query.dto.js';

/** A real RFC 3339 date-time: the pattern alone lets 30 February through to PostgreSQL, a 500. */
const IsDateTime = (options: { message: string }) =>
  ValidateBy({ name: 'isDateTime', validator: { validate: (value) => typeof value === 'string' && isRfc3339DateTime(value) } }, options);


export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID(undefined, { message: 'destination_id must be a UUID' })
  destination_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional() @IsIn(DELIVERY_STATUSES, { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ enum: CANONICAL_EVENTS })
  @IsOptional() @IsIn(CANONICAL_EVENTS, { message: `canonical must be one of: ${CANONICAL_EVENTS.join(', ')}` })
  canonical?: CanonicalEvent;

  // RFC 3339 rather than any ISO 8601 form: PostgreSQL reads every RFC 3339 time, but not week dates or bare years.
  @ApiPropertyOptional({ description: 'only deliveries created at or after this RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z' })
  @IsOptional() @IsDateTime({ message: 'created_after must be an RFC 3339 date-time such as 2026-12-01T00:00:00Z' })
  created_after?: string;

  @ApiPropertyOptional({ description: 'only deliveries created before this RFC 3339 date-time' })
  @IsOptional() @IsDateTime({ message: 'created_before must be an RFC 3339 date-time such as 2026-12-01T00:00:00Z' })
  created_before?: string;

}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as cursor to get the next page; null on the last page' })
  next_cursor: string | null;
}
