import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, IsArray, IsIn, IsOptional, ValidateBy } from 'class-validator';
import { isRfc3339DateTime } from '../../common/calendar.js';
import { RECOVERABLE_STATUSES, RECOVERY_STATES, type RecoverableStatus, type RecoveryState } from '../../../contract/recovery.js';

const IsDateTime = (options: { message: string }) =>
  ValidateBy({ name: 'isDateTime', validator: { validate: (value) => typeof value === 'string' && isRfc3339DateTime(value) } }, options);

export class RecoverRequestDto {
  @ApiProperty({ description: 'retry deliveries created at or after this RFC 3339 date-time', example: '2026-12-01T00:00:00Z' })
  @IsDateTime({ message: 'since is required: an RFC 3339 date-time such as 2026-12-01T00:00:00Z' })
  since: string;

  @ApiPropertyOptional({ description: 'and before this one (default: no end); must be after since', example: '2026-12-01T06:00:00Z' })
  @IsOptional() @IsDateTime({ message: 'until must be an RFC 3339 date-time such as 2026-12-01T06:00:00Z' })
  until?: string;

  @ApiPropertyOptional({ enum: RECOVERABLE_STATUSES, isArray: true, default: RECOVERABLE_STATUSES })
  @IsOptional()
  @IsArray({ message: `statuses must be an array of: ${RECOVERABLE_STATUSES.join(', ')}` })
  @ArrayNotEmpty({ message: `statuses must not be empty; leave it out for all of: ${RECOVERABLE_STATUSES.join(', ')}` })
  @IsIn(RECOVERABLE_STATUSES, { each: true, message: `statuses must contain only: ${RECOVERABLE_STATUSES.join(', ')}` })
  statuses?: RecoverableStatus[];
}

export class RecoveryCreatedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
}

export class RecoveryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: RECOVERY_STATES }) state: RecoveryState;
  @ApiProperty({ nullable: true, type: Number, description: 'deliveries that matched when the recovery began (null until its first page); those failing meanwhile are matched too, so matched may end above it' })
  total: number | null;
  @ApiProperty({ description: 'deliveries found in the window with one of the statuses, so far' }) matched: number;
  @ApiProperty({ description: 'of those, given a new run' }) retried: number;
  @ApiProperty({ description: 'of those, left alone: sent or running by the time they were reached, claimed by another retry, or of a deleted destination' })
  skipped: number;
  @ApiProperty({ description: 'of the skipped, those whose destination was deleted' }) skipped_destination_deleted: number;
  @ApiProperty() since: string;
  @ApiProperty({ nullable: true, type: String }) until: string | null;
  @ApiProperty({ enum: RECOVERABLE_STATUSES, isArray: true }) statuses: RecoverableStatus[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'null: every destination of the account' }) destination_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'why a failed recovery failed' }) error: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
}
