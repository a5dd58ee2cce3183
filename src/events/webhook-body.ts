import type { CanonicalEvent } from '../common/canonical-event.js';

/** Attribution for the uid as captured at click time; unknown fields are null. */
export interface ClickContext {
  uid: string;
  tg_id: number | null;
  fbclid: string | null;
  campaign_id: string | null;
  campaign_name: string | null;
  country: string | null;
}

export interface WebhookBodyInput {
  targetEvent: string;
  canonical: CanonicalEvent;
  eventId: string;
  occurredAtMs: number;
  click: ClickContext;
  data: Record<string, unknown>;
}

/**
 * The JSON body of the webhook, field for field as the payload reference documents it.
 * Serialised once at ingest and stored, so every attempt sends the same bytes.
 */
export function serializeWebhookBody(input: WebhookBodyInput): string {
  return JSON.stringify({
    event: input.targetEvent,
    canonical: input.canonical,
    event_id: input.eventId,
    occurred_at_ms: input.occurredAtMs,
    click: {
      uid: input.click.uid,
      tg_id: input.click.tg_id,
      fbclid: input.click.fbclid,
      campaign_id: input.click.campaign_id,
      campaign_name: input.click.campaign_name,
      country: input.click.country,
    },
    data: input.data,
  });
}

/** A clicks row as the pg driver returns it: bigint tg_id arrives as a string. */
export interface ClickRow extends Omit<ClickContext, 'tg_id'> {
  tg_id: string | number | null;
}

export function clickContextFromRow(row: ClickRow): ClickContext {
  return {
    uid: row.uid,
    tg_id: row.tg_id === null ? null : Number(row.tg_id),
    fbclid: row.fbclid,
    campaign_id: row.campaign_id,
    campaign_name: row.campaign_name,
    country: row.country,
  };
}

export function emptyClickContext(uid: string): ClickContext {
  return { uid, tg_id: null, fbclid: null, campaign_id: null, campaign_name: null, country: null };
}
