import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HOST_RESOLVER } from '../config/config.module.js';
import { DestinationUrlPolicy, UrlPolicyError, type HostResolver } from '../url-policy/destination-url-policy.js';
import { OperationalWebhookError, OperationalWebhookErrorCode } from './operational-webhook.errors.js';

/**
 * An account's operational_webhook_url follows exactly the rules of a destination URL (public
 * addresses only, unless in WEBHOOK_ALLOWED_CIDRS), checked at save time here and at connect time
 * by the worker's guarded HTTP client; the refusal names the field and the rule it broke.
 */
@Injectable()
export class OperationalWebhookUrlPolicy {
  private readonly policy: DestinationUrlPolicy;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(HOST_RESOLVER) resolver: HostResolver) {
    this.policy = new DestinationUrlPolicy(config.allowedCidrs, resolver);
  }

  async check(url: string): Promise<void> {
    try {
      await this.policy.check(url);
    } catch (error) {
      if (!(error instanceof UrlPolicyError)) throw error;
      // The policy words its reasons about "url …": said of this field, they read the same.
      const reason = error.reason.startsWith('url ') ? `operational_webhook_${error.reason}` : `operational_webhook_url: ${error.reason}`;
      throw new OperationalWebhookError(OperationalWebhookErrorCode.UrlRefused, reason);
    }
  }
}
