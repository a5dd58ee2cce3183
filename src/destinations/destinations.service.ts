import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { Repository } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DestinationUrlPolicy, UrlPolicyError } from '../url-policy/destination-url-policy.js';
import { Destination, type RetryPolicyOverrides } from './destination.entity.js';
import { DestinationError, DestinationErrorCode } from './destination.errors.js';
import type { CreateDestinationDto, UpdateDestinationDto } from './dto/destination-request.dto.js';
import type { CreatedDestinationResponseDto, DestinationResponseDto, RotatedSecretResponseDto } from './dto/destination-response.dto.js';
import { effectiveRetryPolicy, effectiveTimeoutMs } from './retry-policy.js';

const MASKED_HEADER_VALUE = '********';
const SIGNING_SECRET_BYTES = 24;

@Injectable()
export class DestinationsService {
  constructor(
    @InjectRepository(Destination) private readonly destinations: Repository<Destination>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly urlPolicy: DestinationUrlPolicy,
  ) {}

  async create(dto: CreateDestinationDto): Promise<CreatedDestinationResponseDto> {
    await this.checkUrl(dto.url);
    const retryPolicy = this.checkRetryPolicy(dto.retry_policy ?? {});
    const destination = this.destinations.create({
      name: dto.name,
      url: dto.url,
      method: dto.method ?? 'POST',
      headers: dto.headers ?? {},
      eventMap: dto.event_map,
      enabled: dto.enabled ?? true,
      timeoutMs: dto.timeout_ms ?? null,
      retryPolicy,
      signingSecret: newSigningSecret(),
    });
    const saved = await this.destinations.save(destination);
    return { ...this.toResponse(saved), signing_secret: saved.signingSecret };
  }

  /**
   * Issues a new signing secret. Until the grace period ends, requests carry signatures with both
   * the new and the previous secret, so the receiver can switch without rejecting anything.
   */
  async rotateSecret(id: string): Promise<RotatedSecretResponseDto> {
    const destination = await this.findOrFail(id);
    const expiresAt = new Date(Date.now() + this.config.signingSecretGracePeriodMs);
    destination.previousSigningSecret = destination.signingSecret;
    destination.previousSigningSecretExpiresAt = expiresAt;
    destination.signingSecret = newSigningSecret();
    await this.destinations.save(destination);
    return { id, signing_secret: destination.signingSecret, previous_secret_expires_at: expiresAt.toISOString() };
  }

  async list(): Promise<DestinationResponseDto[]> {
    const all = await this.destinations.find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return all.map((destination) => this.toResponse(destination));
  }

  async get(id: string): Promise<DestinationResponseDto> {
    return this.toResponse(await this.findOrFail(id));
  }

  async update(id: string, dto: UpdateDestinationDto): Promise<DestinationResponseDto> {
    const destination = await this.findOrFail(id);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const retryPolicy = dto.retry_policy === undefined ? destination.retryPolicy : this.checkRetryPolicy(dto.retry_policy);
    this.destinations.merge(destination, {
      name: dto.name,
      url: dto.url,
      method: dto.method,
      headers: dto.headers,
      eventMap: dto.event_map,
      enabled: dto.enabled,
      timeoutMs: dto.timeout_ms,
      retryPolicy,
    });
    return this.toResponse(await this.destinations.save(destination));
  }

  async remove(id: string): Promise<void> {
    const destination = await this.findOrFail(id);
    await this.destinations.softRemove(destination);
  }

  private async findOrFail(id: string): Promise<Destination> {
    const destination = await this.destinations.findOneBy({ id });
    if (!destination) throw new DestinationError(DestinationErrorCode.NotFound, `destination ${id} not found`);
    return destination;
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await this.urlPolicy.check(url);
    } catch (error) {
      if (error instanceof UrlPolicyError) throw new DestinationError(DestinationErrorCode.UrlRefused, error.reason);
      throw error;
    }
  }

  private checkRetryPolicy(overrides: RetryPolicyOverrides): RetryPolicyOverrides {
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

  private toResponse(destination: Destination): DestinationResponseDto {
    const policy = effectiveRetryPolicy(destination.retryPolicy, this.config.delivery);
    return {
      id: destination.id,
      name: destination.name,
      url: destination.url,
      method: destination.method,
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
      created_at: destination.createdAt.toISOString(),
      updated_at: destination.updatedAt.toISOString(),
    };
  }
}

/** Standard Webhooks secret: `whsec_` and base64 of random bytes. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(SIGNING_SECRET_BYTES).toString('base64')}`;
}
