import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DESTINATION_METHODS, type DestinationMethod } from '../destination.entity.js';
import { MAX_ATTEMPTS_PER_RUN } from '../retry-policy.js';

export class RetryPolicyResponseDto {
  @ApiProperty() initial_interval_ms: number;
  @ApiProperty() backoff_coefficient: number;
  @ApiProperty() max_interval_ms: number;
  @ApiProperty({ minimum: 1, maximum: MAX_ATTEMPTS_PER_RUN, description: `attempts per run as the workflow runs them: a requested 0 shows as ${MAX_ATTEMPTS_PER_RUN}; max_age_ms may end the run sooner` })
  max_attempts: number;
  @ApiProperty() max_age_ms: number;
}

export class DestinationResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: DESTINATION_METHODS }) method: DestinationMethod;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'values masked' })
  headers: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) event_map: Record<string, string>;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'effective per-attempt timeout' }) timeout_ms: number;
  @ApiProperty({ type: RetryPolicyResponseDto, description: 'effective policy: overrides over the global defaults' })
  retry_policy: RetryPolicyResponseDto;
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
