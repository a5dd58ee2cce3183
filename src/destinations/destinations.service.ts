import { Inject, Injectable, Logger } from '@nestjs/common';
import { OpenDeliveries } from '../deliveries/open-deliveries.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { CLOSED_HEALTH, TrafficRepository } from '../traffic/traffic.repository.js';
import type { HealthState } from '../traffic/traffic-rules.js';
import { randomBytes } from 'node:crypto';
import type { TenantAccountContext } from '../common/tenant-account.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DestinationUrlPolicy, UrlPolicyError } from '../url-policy/destination-url-policy.js';
import { parsePostbackTemplate, PostbackTemplateError, type PostbackTemplate } from '../../activities/postback-template.js';
import { successBodyMatcher, SuccessBodyError } from '../../activities/success-body.js';
import { METHODS_BY_FORMAT, type Destination, type DestinationFilter, type DestinationFormat, type RetryPolicyOverrides } from './destination.entity.js';
import { destinationLimitOf } from './destination-limit.js';
import { DestinationError, DestinationErrorCode } from './destination.errors.js';
import { DestinationRepository } from './destination.repository.js';
import type { CreateDestinationDto, UpdateDestinationDto } from './dto/destination-request.dto.js';
import type { CreatedDestinationResponseDto, DestinationResponseDto, RotatedSecretResponseDto } from './dto/destination-response.dto.js';
import { effectiveRetryPolicy, effectiveTimeoutMs } from './retry-policy.js';

const MASKED_HEADER_VALUE = '********';
const DISABLED_THROUGH_THE_API = 'disabled through the API';
const SIGNING_SECRET_BYTES = 24;

@Injectable()
export class DestinationsService {
  private readonly logger = new Logger(DestinationsService.name);

  constructor(
    private readonly destinations: DestinationRepository,
    private readonly traffic: TrafficRepository,
    private readonly openDeliveries: OpenDeliveries,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly urlPolicy: DestinationUrlPolicy,
  ) {}

  /**
   * Creates a destination in the account, up to the account's destination limit: its own
   * `max_destinations`, else MAX_DESTINATIONS, counted among the account's live destinations.
   */
  async create(account: TenantAccountContext, dto: CreateDestinationDto): Promise<CreatedDestinationResponseDto> {
    const retryPolicy = this.checkRetryPolicy(dto.retry_policy ?? {});
    const format = dto.format ?? 'json';
    const successBody = this.checkSuccessBody(dto.success_body);
    const target = await this.checkTarget(format, dto, undefined);
    const maxDestinations = destinationLimitOf(account, this.config);
    const saved = await this.destinations.createWithin(account.id, maxDestinations, {
      name: dto.name,
      format,
      url: target.url!,
      urlTemplate: target.urlTemplate ?? null,
      templateSecrets: target.templateSecrets ?? {},
      method: target.method ?? METHODS_BY_FORMAT[format][0],
      successBody: successBody ?? null,
      filter: normalizeFilter(dto.filter) ?? null,
      headers: dto.headers ?? {},
      eventMap: dto.event_map,
      enabled: dto.enabled ?? true,
      timeoutMs: dto.timeout_ms ?? null,
      retryPolicy,
      rateLimitPerSecond: dto.rate_limit_per_second ?? null,
      maxInFlight: dto.max_in_flight ?? null,
      disabledAt: dto.enabled === false ? new Date() : null,
      disabledReason: dto.enabled === false ? DISABLED_THROUGH_THE_API : null,
      signingSecret: newSigningSecret(),
    });
    if (!saved) {
      throw new DestinationError(
        DestinationErrorCode.LimitReached,
        `destination limit reached: at most ${maxDestinations} destinations may exist at once in this account; delete one before creating another`,
      );
    }
    return { ...this.toResponse(account, saved, undefined), signing_secret: saved.signingSecret };
  }

  /**
   * Issues a new signing secret. Until the grace period ends, requests carry signatures with both
   * the new and the previous secret, so the receiver can switch without rejecting anything.
   */
  async rotateSecret(accountId: string, id: string): Promise<RotatedSecretResponseDto> {
    const expiresAt = new Date(Date.now() + this.config.signingSecretGracePeriodMs);
    const rotated = await this.destinations.rotateSigningSecret(accountId, id, newSigningSecret(), expiresAt);
    if (!rotated) throw notFound(id);
    return { id, signing_secret: rotated.signingSecret, previous_secret_expires_at: expiresAt.toISOString() };
  }

  async list(account: TenantAccountContext): Promise<DestinationResponseDto[]> {
    const all = await this.destinations.listLive(account.id);
    const health = await this.traffic.findHealth(account.id, all.map((destination) => destination.id));
    return all.map((destination) => this.toResponse(account, destination, health.get(destination.id)));
  }

  async get(account: TenantAccountContext, id: string): Promise<DestinationResponseDto> {
    return this.withHealth(account, await this.findOrFail(account.id, id));
  }

  /**
   * Holds the destination's deliveries, new and retrying, without failing or dropping any; attempts
   * already in flight finish. Idempotent: pausing a paused destination keeps its first pause time.
   */
  async pause(account: TenantAccountContext, id: string): Promise<DestinationResponseDto> {
    const saved = await this.destinations.changeLocked(account.id, id, (current) => ({ pausedAt: current.pausedAt ?? new Date() }));
    if (!saved) throw notFound(id);
    return this.withHealth(account, saved);
  }

  /** Ends a pause and wakes the held deliveries, which then go at the destination's limits. */
  async resume(account: TenantAccountContext, id: string): Promise<DestinationResponseDto> {
    const saved = await this.destinations.changeLocked(account.id, id, () => ({ pausedAt: null }));
    if (!saved) throw notFound(id);
    await this.wakeHeld(account.id, id);
    return this.withHealth(account, saved);
  }

  /**
   * Changes the fields given. A url on another origin (scheme, host or port) drops the stored
   * headers unless the same request gives headers again: they were meant for the old receiver,
   * and an `Authorization` value must not follow the url to a server the editor chose.
   */
  async update(account: TenantAccountContext, id: string, dto: UpdateDestinationDto): Promise<DestinationResponseDto> {
    const accountId = account.id;
    let reEnabled = false;
    const retryPolicy = dto.retry_policy === undefined ? undefined : this.checkRetryPolicy(dto.retry_policy);
    const existing = await this.findOrFail(accountId, id);
    const target = await this.checkTarget(existing.format, dto, existing);
    const url = target.url === undefined ? undefined : new URL(target.url);
    const successBody = this.checkSuccessBody(dto.success_body);
    // The DNS check above runs before the row is locked; the locked read decides.
    const saved = await this.destinations.changeLocked(accountId, id, async (current, manager) => {
      const movesOrigin = url !== undefined && url.origin !== new URL(current.url).origin;
      const disabling = dto.enabled === false && current.enabled;
      reEnabled = dto.enabled === true && !current.enabled;
      // Enabling is the explicit act that clears an auto-disable: the breaker and the failing time start afresh.
      if (reEnabled) await this.traffic.reset(accountId, id, manager);
      return {
        ...(disabling ? { disabledAt: new Date(), disabledReason: DISABLED_THROUGH_THE_API } : {}),
        ...(reEnabled ? { disabledAt: null, disabledReason: null } : {}),
        rateLimitPerSecond: dto.rate_limit_per_second,
        maxInFlight: dto.max_in_flight,
        name: dto.name,
        url: target.url,
        urlTemplate: target.urlTemplate,
        // Like headers, secrets meant for one receiver do not follow the template to another origin.
        templateSecrets: target.templateSecrets ?? (movesOrigin ? {} : undefined),
        method: target.method,
        successBody,
        filter: dto.filter === undefined ? undefined : normalizeFilter(dto.filter),
        headers: dto.headers ?? (movesOrigin ? {} : undefined),
        eventMap: dto.event_map,
        enabled: dto.enabled,
        // null is deliberate: back to the global DELIVERY_TIMEOUT_MS.
        timeoutMs: dto.timeout_ms,
        retryPolicy,
      };
    });
    if (!saved) throw notFound(id);
    // Deliveries that were held while disabled ended as skipped; only the breaker's waiters remain to wake.
    if (reEnabled) await this.wakeHeld(accountId, id);
    return this.withHealth(account, saved);
  }

  /**
   * Soft delete keeps the delivery history readable but erases what only sending needed: header
   * values and signing secrets. One statement, so the row is never deleted yet still holding them;
   * a PATCH or rotation in flight holds the row lock and is cleared right after it commits.
   * Attempts still scheduled for the destination fail as `destination is deleted`.
   */
  async remove(accountId: string, id: string): Promise<void> {
    if (!(await this.destinations.softDeleteErasingSecrets(accountId, id))) throw notFound(id);
  }

  /**
   * Held deliveries look again at their own next check anyway (at most ten minutes later); waking
   * them makes "resumed" mean now. A Temporal outage does not fail the request whose change is stored.
   */
  private async wakeHeld(accountId: string, id: string): Promise<void> {
    try {
      await this.openDeliveries.wakeDestination(accountId, id);
    } catch (error) {
      if (!isTemporalUnavailableError(error)) throw error;
      this.logger.warn(`destination ${id} resumed, but its held deliveries could not be woken now (${describeTemporalError(error) ?? 'Temporal unavailable'}); they resume at their next check`);
    }
  }

  private async withHealth(account: TenantAccountContext, destination: Destination): Promise<DestinationResponseDto> {
    const health = await this.traffic.findHealth(account.id, [destination.id]);
    return this.toResponse(account, destination, health.get(destination.id));
  }

  private async findOrFail(accountId: string, id: string): Promise<Destination> {
    const destination = await this.destinations.findLive(accountId, id);
    if (!destination) throw notFound(id);
    return destination;
  }

  /**
   * Where and how the destination sends, checked for its format: a json destination has a `url`,
   * a postback one a `url_template` (its fixed origin is the `url` the SSRF rules check) whose
   * {secret.NAME} macros all have a value. Only the fields given come back; `current` is the
   * stored destination on PATCH.
   */
  private async checkTarget(
    format: DestinationFormat,
    dto: Pick<CreateDestinationDto, 'url' | 'url_template' | 'template_secrets' | 'method'>,
    current: Destination | undefined,
  ): Promise<Partial<Pick<Destination, 'url' | 'urlTemplate' | 'templateSecrets' | 'method'>>> {
    const invalid = (message: string) => new DestinationError(DestinationErrorCode.FormatInvalid, message);
    const methods: readonly string[] = METHODS_BY_FORMAT[format];
    if (dto.method !== undefined && !methods.includes(dto.method)) {
      throw invalid(`method ${dto.method} is not allowed for a ${format} destination; use ${methods.join(' or ')}`);
    }
    if (format === 'json') {
      if (dto.url_template !== undefined || dto.template_secrets !== undefined) {
        throw invalid('url_template and template_secrets are for postback destinations (format: postback)');
      }
      if (dto.url === undefined && current === undefined) throw invalid('url is required');
      if (dto.url !== undefined) await this.checkUrl(dto.url);
      return { url: dto.url, method: dto.method };
    }
    if (dto.url !== undefined) throw invalid('a postback destination takes url_template, not url');
    const templateText = dto.url_template ?? current?.urlTemplate ?? undefined;
    if (templateText === undefined) throw invalid('url_template is required for a postback destination');
    let template: PostbackTemplate;
    try {
      template = parsePostbackTemplate(templateText);
    } catch (error) {
      if (error instanceof PostbackTemplateError) throw invalid(error.message);
      throw error;
    }
    const movesOrigin = current !== undefined && template.origin !== new URL(current.url).origin;
    const secrets = dto.template_secrets ?? (movesOrigin ? {} : (current?.templateSecrets ?? {}));
    const missing = template.secrets.find((name) => secrets[name] === undefined);
    if (missing !== undefined) {
      throw invalid(`url_template uses {secret.${missing}} but template_secrets has no "${missing}"${movesOrigin ? ' (secrets are dropped when the template moves to another origin: give them again)' : ''}`);
    }
    // Last, the DNS lookup: the checks above cost nothing and name the more likely mistake.
    const origin = await this.checkUrl(`${template.origin}/`);
    return {
      url: dto.url_template === undefined ? undefined : origin.href,
      urlTemplate: dto.url_template,
      templateSecrets: dto.template_secrets,
      method: dto.method,
    };
  }

  /** Undefined: not given; null: removed; otherwise checked (a pattern must be safe to run on a receiver's text). */
  private checkSuccessBody(successBody: string | null | undefined): string | null | undefined {
    if (successBody === undefined || successBody === null) return successBody;
    try {
      successBodyMatcher(successBody);
    } catch (error) {
      if (error instanceof SuccessBodyError) throw new DestinationError(DestinationErrorCode.FormatInvalid, error.message);
      throw error;
    }
    return successBody;
  }

  private async checkUrl(url: string): Promise<URL> {
    try {
      return await this.urlPolicy.check(url);
    } catch (error) {
      if (error instanceof UrlPolicyError) throw new DestinationError(DestinationErrorCode.UrlRefused, error.reason);
      throw error;
    }
  }

  private checkRetryPolicy(overrides: RetryPolicyOverrides): RetryPolicyOverrides {
    // Only what the caller asks for is held to the floor; the global defaults are the operator's choice.
    const floorMs = this.config.limits.minRetryIntervalMs;
    for (const field of ['initial_interval_ms', 'max_interval_ms'] as const) {
      const value = overrides[field];
      if (value !== undefined && value < floorMs) {
        throw new DestinationError(
          DestinationErrorCode.RetryPolicyInvalid,
          `retry_policy.${field} must be at least ${floorMs} ms, the minimum retry interval`,
        );
      }
    }
    const effective = effectiveRetryPolicy(overrides, this.config.delivery);
    if (effective.maxIntervalMs < effective.initialIntervalMs) {
      throw new DestinationError(
        DestinationErrorCode.RetryPolicyInvalid,
        'retry_policy.max_interval_ms must not be smaller than retry_policy.initial_interval_ms',
      );
    }
    // Copy the known fields only: the stored JSON never carries anything the DTO did not validate.
    const { initial_interval_ms, backoff_coefficient, max_interval_ms, max_attempts, max_age_ms } = overrides;
    return JSON.parse(JSON.stringify({ initial_interval_ms, backoff_coefficient, max_interval_ms, max_attempts, max_age_ms }));
  }

  private toResponse(account: TenantAccountContext, destination: Destination, health: HealthState | undefined): DestinationResponseDto {
    const policy = effectiveRetryPolicy(destination.retryPolicy, this.config.delivery);
    const state = health ?? CLOSED_HEALTH;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: destination.id,
      name: destination.name,
      url: destination.url,
      format: destination.format,
      method: destination.method,
      url_template: destination.urlTemplate,
      template_secrets: Object.fromEntries(Object.keys(destination.templateSecrets).map((name) => [name, MASKED_HEADER_VALUE])),
      success_body: destination.successBody,
      filter: destination.filter,
      headers: Object.fromEntries(Object.keys(destination.headers).map((name) => [name, MASKED_HEADER_VALUE])),
      event_map: destination.eventMap as Record<string, string>,
      enabled: destination.enabled,
      timeout_ms: effectiveTimeoutMs(destination, this.config.delivery),
      retry_policy: {
        initial_interval_ms: policy.initialIntervalMs,
        backoff_coefficient: policy.backoffCoefficient,
        max_interval_ms: policy.maxIntervalMs,
        max_attempts: policy.maxAttempts,
        max_age_ms: policy.maxAgeMs,
      },
      rate_limit_per_second: destination.rateLimitPerSecond ?? account.defaultRatePerSecond ?? this.config.traffic.ratePerSecond,
      max_in_flight: destination.maxInFlight ?? account.defaultMaxInFlight ?? this.config.traffic.maxInFlight,
      paused: destination.pausedAt !== null,
      paused_at: destination.pausedAt?.toISOString() ?? null,
      disabled_reason: destination.enabled ? null : (destination.disabledReason ?? DISABLED_THROUGH_THE_API),
      disabled_at: destination.enabled ? null : (destination.disabledAt?.toISOString() ?? null),
      health: {
        breaker: state.breaker,
        failure_streak: state.failureStreak,
        failing_since: iso(state.failingSinceMs),
        open_until: state.breaker === 'open' ? iso(state.openUntilMs) : null,
        last_success_at: iso(state.lastSuccessAtMs),
        last_failure_at: iso(state.lastFailureAtMs),
        last_failure_reason: state.lastFailureReason,
      },
      created_at: destination.createdAt.toISOString(),
      updated_at: destination.updatedAt.toISOString(),
    };
  }
}

/** Country codes compare upper case; repeated entries say nothing more. */
function normalizeFilter(filter: DestinationFilter | null | undefined): DestinationFilter | null | undefined {
  if (filter === undefined || filter === null) return filter;
  const normalized: DestinationFilter = {};
  if (filter.campaign_ids !== undefined) normalized.campaign_ids = [...new Set(filter.campaign_ids)];
  if (filter.countries !== undefined) normalized.countries = [...new Set(filter.countries.map((country) => country.toUpperCase()))];
  if (filter.min_value !== undefined) normalized.min_value = filter.min_value;
  return normalized;
}

/** The same answer for another account's destination as for one that never existed. */
function notFound(id: string): DestinationError {
  return new DestinationError(DestinationErrorCode.NotFound, `destination ${id} not found`);
}

/** Standard Webhooks secret: `whsec_` and base64 of random bytes. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(SIGNING_SECRET_BYTES).toString('base64')}`;
}
