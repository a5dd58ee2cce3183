import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DESTINATION_FORMATS, DESTINATION_METHODS, type DestinationFilter, type DestinationFormat, type DestinationMethod } from '../destination.entity.js';
import { DestinationFilterDto } from './destination-request.dto.js';
import { MAX_ATTEMPTS_PER_RUN } from '../retry-policy.js';

export class RetryPolicyResponseDto {
  @ApiProperty() initial_interval_ms: number;
  @ApiProperty() backoff_coefficient: number;
  @ApiProperty() max_interval_ms: number;
  @ApiProperty({ minimum: 1, maximum: MAX_ATTEMPTS_PER_RUN, description: `attempts per run as the workflow runs them: a requested 0 shows as ${MAX_ATTEMPTS_PER_RUN}; max_age_ms may end the run sooner` })
  max_attempts: number;
  @ApiProperty() max_age_ms: number;
}

export class DestinationHealthDto {
  @ApiProperty({ enum: ['closed', 'open', 'half_open'], description: 'open: deliveries wait for the cool-down; half_open: one probe decides' })
  breaker: 'closed' | 'open' | 'half_open';
  @ApiProperty({ description: 'consecutive retryable failures (5xx, 408, 429, timeouts, network errors) since the last success' })
  failure_streak: number;
  @ApiProperty({ nullable: true, type: String, description: 'start of the current run of failures; auto-disable counts from here' })
  failing_since: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'while open: when the next probe may go' })
  open_until: string | null;
  @ApiProperty({ nullable: true, type: String }) last_success_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_failure_at: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'RetryableHttpStatus: receiver answered HTTP 503' })
  last_failure_reason: string | null;
}

export class DestinationResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: DESTINATION_FORMATS }) format: DestinationFormat;
  @ApiProperty({ enum: DESTINATION_METHODS }) method: DestinationMethod;
  @ApiProperty({ nullable: true, type: String, description: 'postback destinations: the template as saved ({secret.NAME} macros stay placeholders)' })
  url_template: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'names of the template secrets, values masked' })
  template_secrets: Record<string, string>;
  @ApiProperty({ nullable: true, type: String }) success_body: string | null;
  @ApiProperty({ nullable: true, type: () => DestinationFilterDto, description: 'routing rules applied at ingest; null = every event' })
  filter: DestinationFilter | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'values masked' })
  headers: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) event_map: Record<string, string>;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'effective per-attempt timeout' }) timeout_ms: number;
  @ApiProperty({ type: RetryPolicyResponseDto, description: 'effective policy: overrides over the global defaults' })
  retry_policy: RetryPolicyResponseDto;
  @ApiProperty({ nullable: true, type: Number, description: "effective requests per second (the destination's, the account's default or DEFAULT_RATE_LIMIT_PER_SECOND); null = no limit" })
  rate_limit_per_second: number | null;
  @ApiProperty({ description: 'effective attempts in flight at once' })
  max_in_flight: number;
  @ApiProperty({ description: 'paused: deliveries are held until POST …/resume' })
  paused: boolean;
  @ApiProperty({ nullable: true, type: String }) paused_at: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'failing without a success since 2026-11-26T10:00:00.000Z; …', description: 'why it is disabled (through the API, or auto-disabled after failing too long); null while enabled' })
  disabled_reason: string | null;
  @ApiProperty({ nullable: true, type: String }) disabled_at: string | null;
  @ApiProperty({ type: DestinationHealthDto }) health: DestinationHealthDto;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class CreatedDestinationResponseDto extends DestinationResponseDto {
  @ApiPropertyOptional({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'returned on create only' })
  signing_secret: string;
}

export class RotatedSecretResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }) signing_secret: string;
  @ApiProperty({ description: 'until then requests are signed with both the new and the previous secret' })
  previous_secret_expires_at: string;
}
