import type { CanonicalEvent } from '../common/canonical-event.js';
import type { FilterDecision } from '../deliveries/delivery.entity.js';
import type { DestinationFilter } from '../destinations/destination.entity.js';
import type { ClickContext } from './webhook-body.js';

/**
 * A destination's routing rules applied to one event, at ingest: every rule given must hold. A
 * rule on a click field the click does not have (no click, no country) does not hold — an event
 * that cannot be shown to match is kept out, and the reason says so. `min_value` concerns deposits
 * only. Null when the destination has no filter.
 */
export function applyRoutingFilter(filter: DestinationFilter | null, click: ClickContext, canonical: CanonicalEvent, data: Record<string, unknown>): FilterDecision | null {
  if (filter === null) return null;
  const keptOut = (reason: string): FilterDecision => ({ matched: false, reason });
  if (filter.campaign_ids !== undefined) {
    if (click.campaign_id === null) return keptOut('the click has no campaign_id, and filter.campaign_ids is set');
    if (!filter.campaign_ids.includes(click.campaign_id)) return keptOut(`campaign_id ${click.campaign_id} is not in filter.campaign_ids`);
  }
  if (filter.countries !== undefined) {
    if (click.country === null) return keptOut('the click has no country, and filter.countries is set');
    if (!filter.countries.includes(click.country.toUpperCase())) return keptOut(`country ${click.country} is not in filter.countries`);
  }
  if (filter.min_value !== undefined && canonical === 'deposit') {
    const value = typeof data.value === 'string' ? Number(data.value) : Number.NaN;
    // Decimal strings of at most 15 integer digits compare exactly enough as doubles at this precision.
    if (!(value >= Number(filter.min_value))) return keptOut(`deposit value ${String(data.value)} is below filter.min_value ${filter.min_value}`);
  }
  return { matched: true, reason: null };
}
