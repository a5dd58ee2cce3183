import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
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
import { MAX_URL_TEMPLATE_LENGTH, POSTBACK_MACROS } from '../../../activities/postback-template.js';
import { MAX_SUCCESS_BODY_LENGTH } from '../../../activities/success-body.js';
import { DESTINATION_FORMATS, DESTINATION_METHODS, type DestinationFilter, type DestinationFormat, type DestinationMethod } from '../destination.entity.js';
import { MAX_ATTEMPTS_PER_RUN } from '../retry-policy.js';
import { IsDestinationFilter, IsEventMap, IsHeaderMap, IsNotNull, IsOmittable, IsPlainText, IsTemplateSecrets } from './destination-validators.js';

export const MAX_URL_LENGTH = 2048;
/** One request per 1,000 s at the slowest; beyond 10,000/s a limit is no limit for one destination. */
export const MIN_RATE_LIMIT_PER_SECOND = 0.001;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
export const MAX_IN_FLIGHT_LIMIT = 10_000;
const DAY_MS = 86_400_000;

/**
 * The interval floors here are absolute; RETRY_MIN_INTERVAL_MS raises them at run time and is
 * checked by DestinationsService, since decorators cannot read the configuration.
 */
export class RetryPolicyDto {
  @ApiPropertyOptional({ minimum: 100, example: 10_000, description: 'at least RETRY_MIN_INTERVAL_MS (default 1000)' })
  @IsOmittable() @IsInt() @Min(100) @Max(DAY_MS)
  initial_interval_ms?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10, example: 2 })
  @IsOmittable() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(1) @Max(10)
  backoff_coefficient?: number;

  @ApiPropertyOptional({ minimum: 100, example: 3_600_000, description: 'at least RETRY_MIN_INTERVAL_MS (default 1000)' })
  @IsOmittable() @IsInt() @Min(100) @Max(DAY_MS)
  max_interval_ms?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_ATTEMPTS_PER_RUN,
    description: `attempts per run; 0 = as many as fit in max_age_ms, at most ${MAX_ATTEMPTS_PER_RUN}`,
  })
  @IsOmittable() @IsInt() @Min(0) @Max(MAX_ATTEMPTS_PER_RUN)
  max_attempts?: number;

  @ApiPropertyOptional({ minimum: 1000, maximum: 30 * DAY_MS, example: 259_200_000 })
  @IsOmittable() @IsInt() @Min(1000) @Max(30 * DAY_MS)
  max_age_ms?: number;
}

/** The routing rules, for OpenAPI; validated as a whole by IsDestinationFilter (unknown keys refused). */
export class DestinationFilterDto {
  @ApiPropertyOptional({ type: [String], description: "the click's campaign_id must be one of these" }) campaign_ids?: string[];
  @ApiPropertyOptional({ type: [String], description: "the click's country (ISO 3166-1 alpha-2) must be one of these" }) countries?: string[];
  @ApiPropertyOptional({ example: '10.00', description: 'deposits below this value do not reach the destination; other events are not affected' }) min_value?: string;
}

/** Null is refused for every field (400 naming it) except `timeout_ms`, where it means the global default. */
export class CreateDestinationDto {
  @ApiProperty({ example: 'Meta CAPI relay', maxLength: 200 })
  @IsNotNull() @IsString() @Length(1, 200) @IsPlainText()
  name: string;

  @ApiPropertyOptional({ enum: DESTINATION_FORMATS, default: 'json', description: "json: the seed's body POSTed to url; postback: url_template with {macros} sent as GET (or a form POST) — the ad trackers' S2S convention. Fixed at create" })
  @IsOmittable() @IsIn(DESTINATION_FORMATS)
  format?: DestinationFormat;

  @ApiPropertyOptional({ example: 'https://hooks.example.com/xt', description: 'json destinations (required there): http(s), no credentials, public address only. Postback destinations give url_template instead' })
  @IsOmittable() @IsString() @MaxLength(MAX_URL_LENGTH) @IsPlainText()
  url?: string;

  @ApiPropertyOptional({
    example: 'https://tracker.example/{secret.key}/postback?subid={uid}&status={event}&payout={value}&currency={currency}&tid={transaction_id}',
    description: `postback destinations (required there): macros ${POSTBACK_MACROS.map((macro) => `{${macro}}`).join(', ')} and {secret.NAME} (a value of template_secrets, masked wherever shown); values are percent-encoded; no macro in the scheme, host or port`,
  })
  @IsOmittable() @IsString() @MaxLength(MAX_URL_TEMPLATE_LENGTH) @IsPlainText()
  url_template?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { key: 'k-93f1' }, description: 'write-only: values of the {secret.NAME} macros, masked in responses, logs and attempt records' })
  @IsOmittable() @IsTemplateSecrets()
  template_secrets?: Record<string, string>;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_SUCCESS_BODY_LENGTH, example: 'OK', description: 'a 2xx counts as accepted only when its body contains this (or, written ^…$, matches this anchored regular expression); otherwise it is retried like a 5xx. null = any 2xx' })
  @IsOptional() @IsString() @MaxLength(MAX_SUCCESS_BODY_LENGTH) @IsPlainText()
  success_body?: string | null;

  @ApiPropertyOptional({ type: () => DestinationFilterDto, nullable: true, example: { campaign_ids: ['120001'], countries: ['IN', 'BR'], min_value: '10.00' }, description: 'routing rules: an event reaches the destination only when its click matches every rule given (min_value: deposits only). Decided at ingest; a delivery kept out is `skipped` with the reason. null = every event' })
  @IsOptional() @IsDestinationFilter()
  filter?: DestinationFilter | null;

  @ApiPropertyOptional({ enum: DESTINATION_METHODS, description: 'json: POST (default), PUT or PATCH; postback: GET (default) or POST (the query sent as a form body)' })
  @IsOmittable() @IsIn(DESTINATION_METHODS)
  method?: DestinationMethod;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'X-Shared-Secret': 's3cr3t' },
    description: 'write-only: values are masked in responses; printable ASCII and TAB only. Dropped when a PATCH moves url to another origin without giving headers again',
  })
  @IsOmittable() @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { deposit: 'Purchase', registration: 'CompleteRegistration' } })
  @IsNotNull() @IsEventMap()
  event_map: Partial<Record<CanonicalEvent, string>>;

  @ApiPropertyOptional({ default: true })
  @IsOmittable() @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: Number, minimum: 100, maximum: 60_000, nullable: true, description: 'per-attempt timeout; null or absent = DELIVERY_TIMEOUT_MS' })
  @IsOptional() @IsInt() @Min(100) @Max(60_000)
  timeout_ms?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: MIN_RATE_LIMIT_PER_SECOND,
    maximum: MAX_RATE_LIMIT_PER_SECOND,
    example: 10,
    description: "requests per second to this destination (fractions allowed: 0.5 = one every 2 s); deliveries beyond it wait without spending attempts. null or absent = the account's default_rate_limit_per_second, else DEFAULT_RATE_LIMIT_PER_SECOND (unset: no limit)",
  })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(MIN_RATE_LIMIT_PER_SECOND) @Max(MAX_RATE_LIMIT_PER_SECOND)
  rate_limit_per_second?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_IN_FLIGHT_LIMIT,
    example: 5,
    description: "attempts in flight at once across all workers; deliveries beyond it wait. null or absent = the account's default_max_in_flight, else DEFAULT_MAX_IN_FLIGHT (20)",
  })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_IN_FLIGHT_LIMIT)
  max_in_flight?: number | null;

  @ApiPropertyOptional({ type: RetryPolicyDto, description: 'replaces the stored overrides as a whole on PATCH' })
  @IsOmittable() @IsObject() @ValidateNested() @Type(() => RetryPolicyDto)
  retry_policy?: RetryPolicyDto;
}

/**
 * Absent fields are left as they are. `skipNullProperties: false` keeps null under validation:
 * the default would let null skip every check and reach the database.
 */
export class UpdateDestinationDto extends PartialType(OmitType(CreateDestinationDto, ['format'] as const), { skipNullProperties: false }) {}
