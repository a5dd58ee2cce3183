import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { CANONICAL_EVENTS, type CanonicalEvent } from '../../common/canonical-event.js';
import { NullMeansAbsent, UID_PATTERN } from '../../clicks/dto/click.dto.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../deliveries/delivery-status.js';

/** 2000-01-01 and 2100-01-01: outside this an "epoch in ms" is really seconds, or a typo. */
export const MIN_OCCURRED_AT_MS = 946_684_800_000;
export const MAX_OCCURRED_AT_MS = 4_102_444_800_000;

/** Null fields are absent, so `{ value: null, currency: null }` is a deposit without its value. */
export class EventDataDto {
  @ApiPropertyOptional({ example: '25.00', description: 'decimal string; required for deposit' })
  @NullMeansAbsent() @IsOptional() @IsString()
  @Matches(/^\d{1,15}(\.\d{1,8})?$/, { message: 'data.value must be a decimal string such as "25.00"' })
  value?: string;

  @ApiPropertyOptional({ example: 'USD', description: 'ISO 4217 code; required for deposit' })
  @NullMeansAbsent() @IsOptional() @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'data.currency must be a 3-letter ISO 4217 code such as USD' })
  currency?: string;
}

/** Optional fields that are null are absent. */
export class IngestEventDto {
  @ApiPropertyOptional({ example: 'evt-42', description: "producer's idempotency key (or the Idempotency-Key header), unique within the account" })
  @NullMeansAbsent() @IsOptional() @IsString() @Length(1, 255) @Matches(UID_PATTERN, { message: 'id must be printable ASCII without spaces' })
  id?: string;

  @ApiProperty({ enum: CANONICAL_EVENTS })
  @IsIn(CANONICAL_EVENTS, { message: `canonical must be one of: ${CANONICAL_EVENTS.join(', ')}` })
  canonical: CanonicalEvent;

  @ApiProperty({ example: 'abc123' })
  @IsString() @Length(1, 128) @Matches(UID_PATTERN, { message: 'uid must be printable ASCII without spaces' })
  uid: string;

  @ApiPropertyOptional({ example: 1765432100000, description: 'epoch milliseconds; default: time of ingest' })
  @NullMeansAbsent() @IsOptional()
  @IsInt({ message: 'occurred_at_ms must be an integer epoch in milliseconds' })
  @Min(MIN_OCCURRED_AT_MS, { message: 'occurred_at_ms must be an epoch in milliseconds (after 2000-01-01)' })
  @Max(MAX_OCCURRED_AT_MS, { message: 'occurred_at_ms must be an epoch in milliseconds (before 2100-01-01)' })
  occurred_at_ms?: number;

  @ApiPropertyOptional({ type: EventDataDto })
  @NullMeansAbsent() @IsOptional() @IsObject() @ValidateNested() @Type(() => EventDataDto)
  data?: EventDataDto;
}

export class DeliverySummaryDto {
  @ApiProperty({ example: '3f1c9a…', description: 'first 32 hex digits of SHA-256 over "<account_id>\\n<id>\\n<destination_id>"' }) event_id: string;
  @ApiProperty({ format: 'uuid' }) destination_id: string;
  @ApiProperty({ example: 'Purchase' }) event: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
}

export class IngestEventResponseDto {
  @ApiProperty({ description: 'the idempotency key of the event' }) id: string;
  @ApiProperty({ type: [DeliverySummaryDto] }) deliveries: DeliverySummaryDto[];
}
