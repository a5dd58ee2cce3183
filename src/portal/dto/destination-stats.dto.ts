import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_STATS_HOURS = 168;
/** 30 days: as far back as a chart of hourly bars stays readable. */
export const MAX_STATS_HOURS = 720;

export class DestinationStatsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_STATS_HOURS, default: DEFAULT_STATS_HOURS, description: 'hours back from now, the current hour included' })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'hours must be a whole number' }) @Min(1) @Max(MAX_STATS_HOURS)
  hours?: number;
}

export class HourlyOutcomesDto {
  @ApiProperty({ description: 'start of the hour (UTC)' }) hour: string;
  @ApiProperty() sent: number;
  @ApiProperty() failed: number;
  @ApiProperty({ description: 'pending or retrying: not finished yet' }) open: number;
  @ApiProperty({ description: 'cancelled or skipped' }) other: number;
}

export class DestinationStatsDto {
  @ApiProperty({ format: 'uuid' }) destination_id: string;
  @ApiProperty() hours: number;
  @ApiProperty({ description: 'deliveries created at or after this time are counted' }) since: string;
  @ApiProperty({ type: [HourlyOutcomesDto], description: 'one entry per hour, oldest first, by the status each delivery has now' })
  buckets: HourlyOutcomesDto[];
  @ApiProperty({ type: HourlyOutcomesDto, description: 'the whole window (hour = since)' }) totals: HourlyOutcomesDto;
  @ApiProperty({ nullable: true, type: Number, description: 'sent / (sent + failed) over the window; null when none finished either way' })
  success_rate: number | null;
}
