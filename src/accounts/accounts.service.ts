import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OpenDeliveries } from '../deliveries/open-deliveries.js';
import { describeTemporalError, isTemporalUnavailableError } from '../temporal/temporal-errors.js';
import { decodeAccountCursor, encodeAccountCursor } from './account-cursor.js';
import { AccountError, AccountErrorCode, accountNotFound } from './account.errors.js';
import { AccountRepository, type Account } from './account.repository.js';
import { DEFAULT_PAGE_SIZE } from '../common/page-query.dto.js';
import type { AccountPageDto, AccountResponseDto, ListAccountsQueryDto, PutAccountDto, PutAccountResponseDto } from './dto/account.dto.js';
import type { RotatedOperationalWebhookSecretResponseDto } from '../operational-webhooks/dto/operational-webhook.dto.js';
import { OperationalWebhookError, OperationalWebhookErrorCode } from '../operational-webhooks/operational-webhook.errors.js';
import { newOperationalWebhookSecret } from '../operational-webhooks/operational-webhook-secret.js';
import { OperationalWebhookUrlPolicy } from '../operational-webhooks/operational-webhook-url-policy.js';
import type { OperationalWebhookChange } from './account.repository.js';

@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly accounts: AccountRepository,
    private readonly openDeliveries: OpenDeliveries,
    private readonly operationalWebhookUrls: OperationalWebhookUrlPolicy,
  ) {}

  async put(id: string, dto: PutAccountDto): Promise<{ account: PutAccountResponseDto; created: boolean }> {
    const operationalWebhook = await this.operationalWebhookChange(dto.operational_webhook_url);
    const { account, created, wasEnabled, issuedOperationalWebhookSecret } = await this.accounts.upsert(id, {
      name: dto.name,
      enabled: dto.enabled,
      rateLimitPerMinute: dto.rate_limit_per_minute,
      maxDestinations: dto.max_destinations,
      defaultRatePerSecond: dto.default_rate_limit_per_second,
      defaultMaxInFlight: dto.default_max_in_flight,
      autoDisableAfterMs: dto.auto_disable_after_ms,
      retentionDays: dto.retention_days,
      operationalWebhook,
    });
    if (wasEnabled === false && account.enabled) await this.wakeHeldDeliveries(id);
    // The secret is shown once, when it is generated; every later answer shows the URL only.
    const secret = issuedOperationalWebhookSecret === undefined ? {} : { operational_webhook_secret: issuedOperationalWebhookSecret };
    return { account: { ...this.toResponse(account), ...secret }, created };
  }

  /** Left out: unchanged. The URL is checked (DNS included) before the account row is locked. */
  private async operationalWebhookChange(url: string | null | undefined): Promise<OperationalWebhookChange | undefined> {
    if (url === undefined) return undefined;
    if (url === null) return { url: null };
    await this.operationalWebhookUrls.check(url);
    return { url, secretIfNone: newOperationalWebhookSecret() };
  }

  /**
   * A new operational webhook secret. Until the grace period ends (SIGNING_SECRET_GRACE_PERIOD_MS,
   * as for destinations) notifications carry signatures with both, so the receiver can switch
   * without rejecting one.
   */
  async rotateOperationalWebhookSecret(id: string): Promise<RotatedOperationalWebhookSecretResponseDto> {
    const secret = newOperationalWebhookSecret();
    const expiresAt = new Date(Date.now() + this.config.signingSecretGracePeriodMs);
    if (!(await this.accounts.rotateOperationalWebhookSecret(id, secret, expiresAt))) {
      throw new OperationalWebhookError(OperationalWebhookErrorCode.NotConfigured, 'the account has no operational_webhook_url: set one with PUT /v1/accounts/{account_id} first');
    }
    return { operational_webhook_secret: secret, previous_secret_expires_at: expiresAt.toISOString() };
  }

  /**
   * Held deliveries resume at their own next check anyway (at most ten minutes later); waking them
   * makes "enabled" mean now. So a Temporal outage here does not fail a PUT whose change is
   * already stored: answering 503 would invite a retry that, finding it enabled, wakes nothing.
   */
  private async wakeHeldDeliveries(id: string): Promise<void> {
    try {
      await this.openDeliveries.wake(id);
    } catch (error) {
      if (!isTemporalUnavailableError(error)) throw error;
      this.logger.warn(`account ${id} enabled, but its held deliveries could not be woken now (${describeTemporalError(error) ?? 'Temporal unavailable'}); they resume at their next check`);
    }
  }

  async get(id: string): Promise<AccountResponseDto> {
    const account = await this.accounts.find(id);
    if (!account) throw accountNotFound(id);
    return this.toResponse(account);
  }

  async list(query: ListAccountsQueryDto): Promise<AccountPageDto> {
    let after: string | undefined;
    if (query.cursor !== undefined) {
      after = decodeAccountCursor(query.cursor);
      if (after === undefined) throw new AccountError(AccountErrorCode.InvalidCursor, 'cursor is malformed: pass next_cursor from a previous page unchanged');
    }
    const { accounts, more } = await this.accounts.listAfter(after, query.limit ?? DEFAULT_PAGE_SIZE);
    const last = accounts.at(-1);
    return { items: accounts.map((account) => this.toResponse(account)), next_cursor: more && last ? encodeAccountCursor(last.id) : null };
  }

  /**
   * Disabled first, so no new ingest starts deliveries while the running ones are cancelled; then
   * the row goes, and with it (ON DELETE CASCADE) every row of the account, secrets included.
   * A delivery workflow the cancellation missed finds its delivery gone and sends nothing.
   */
  async remove(id: string): Promise<void> {
    if (!(await this.accounts.disable(id))) throw accountNotFound(id);
    const cancelled = await this.openDeliveries.cancelAll(id);
    if (!(await this.accounts.delete(id))) throw accountNotFound(id);
    this.logger.log(`deleted account ${id} after cancelling ${cancelled} running deliveries`);
  }

  /** Limits as they apply: the account's override, or the configured default. */
  private toResponse(account: Account): AccountResponseDto {
    return {
      id: account.id,
      name: account.name,
      enabled: account.enabled,
      rate_limit_per_minute: account.rateLimitPerMinute ?? this.config.rateLimitPerMinute,
      max_destinations: account.maxDestinations ?? this.config.limits.maxDestinations,
      default_rate_limit_per_second: account.defaultRatePerSecond ?? this.config.traffic.ratePerSecond,
      default_max_in_flight: account.defaultMaxInFlight ?? this.config.traffic.maxInFlight,
      auto_disable_after_ms: account.autoDisableAfterMs ?? this.config.traffic.autoDisableAfterMs,
      retention_days: account.retentionDays ?? this.config.retentionDays,
      operational_webhook_url: account.operationalWebhookUrl,
      created_at: account.createdAt.toISOString(),
      updated_at: account.updatedAt.toISOString(),
    };
  }
}
