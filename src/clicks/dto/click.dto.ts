import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsISO31661Alpha2, IsOptional, IsPositive, IsString, Length, Matches, Max, MaxLength } from 'class-validator';

/** Printable ASCII without spaces: ids end up in headers, logs and URLs. */
export const UID_PATTERN = /^[\x21-\x7e]+$/;

/** No C0/C1 control character or DEL: PostgreSQL refuses NUL in text (a 500), and none is meaningful here. */
const NO_CONTROL_CHARACTERS = /^\P{Cc}*$/u;

/**
 * Ingest input (clicks, events) treats an optional field that is null as absent: producers often
 * serialise "unknown" as null. Without this, null skips validation yet reaches the service as given.
 */
export function NullMeansAbsent(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (value === null ? undefined : value));
}

/** A null field is absent: a merge never erases what an earlier call captured. */
export class RecordClickDto {
  @ApiProperty({ example: 'abc123', maxLength: 128, description: 'the click id, unique within the account' })
  @IsString() @Length(1, 128) @Matches(UID_PATTERN, { message: 'uid must be printable ASCII without spaces' })
  uid: string;

  @ApiPropertyOptional({ example: 555123, description: 'Telegram user id' })
  @NullMeansAbsent() @IsOptional() @IsInt() @IsPositive() @Max(Number.MAX_SAFE_INTEGER)
  tg_id?: number;

  @ApiPropertyOptional({ example: 'IwAR…', maxLength: 512 })
  @NullMeansAbsent() @IsOptional() @IsString() @MaxLength(512)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'fbclid must not contain control characters' })
  fbclid?: string;

  @ApiPropertyOptional({ example: '120…', maxLength: 128 })
  @NullMeansAbsent() @IsOptional() @IsString() @MaxLength(128)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'campaign_id must not contain control characters' })
  campaign_id?: string;

  @ApiPropertyOptional({ example: 'promoX', maxLength: 256 })
  @NullMeansAbsent() @IsOptional() @IsString() @MaxLength(256)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'campaign_name must not contain control characters' })
  campaign_name?: string;

  @ApiPropertyOptional({ example: 'IN', description: 'ISO 3166-1 alpha-2' })
  @NullMeansAbsent() @IsOptional() @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code such as IN' })
  country?: string;
}

export class ClickResponseDto {
  @ApiProperty() uid: string;
  @ApiProperty({ nullable: true, type: Number }) tg_id: number | null;
  @ApiProperty({ nullable: true, type: String }) fbclid: string | null;
  @ApiProperty({ nullable: true, type: String }) campaign_id: string | null;
  @ApiProperty({ nullable: true, type: String }) campaign_name: string | null;
  @ApiProperty({ nullable: true, type: String }) country: string | null;
  @ApiProperty({ description: 'true when this call created the click, false when it merged into an existing one' })
  created: boolean;
}
