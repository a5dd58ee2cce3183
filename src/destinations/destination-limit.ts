import type { TenantAccountContext } from '../common/tenant-account.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * How many live destinations an account may have: its own `max_destinations` when a service key
 * set one, else MAX_DESTINATIONS. The same number bounds the fan-out of one of its events, so an
 * override lowered below the destinations that exist caps what each event reaches too.
 */
export function destinationLimitOf(account: Pick<TenantAccountContext, 'maxDestinations'>, config: Pick<AppConfig, 'limits'>): number {
  return account.maxDestinations ?? config.limits.maxDestinations;
}
