import type { DeliveryTarget } from '../contract/attempt-store.js';
import type { WebhookMethod, WebhookRequest } from '../contract/webhook-connector.js';
import { parsePostbackTemplate, PostbackTemplateError, renderPostback, type MacroValues } from './postback-template.js';

/** What one attempt sends, before the signature and timeouts are added, and how it is shown. */
export interface OutgoingRequest extends Pick<WebhookRequest, 'url' | 'method' | 'body' | 'contentType'> {
  /** The method and URL as people may see them: secret template parts masked. */
  requestLine: string;
  /** The values a stored excerpt must not show (a receiver may echo the URL back). */
  secrets: string[];
}

/** The stored webhook body, as a postback's macros read it. */
interface SeedBody {
  event?: string;
  canonical?: string;
  event_id?: string;
  occurred_at_ms?: number;
  click?: { uid?: string; tg_id?: number | null; fbclid?: string | null; campaign_id?: string | null; campaign_name?: string | null; country?: string | null };
  data?: { value?: string; currency?: string };
}

/**
 * The request of one attempt: the seed's JSON body POSTed (or PUT/PATCHed) to the destination's
 * URL, or a postback — the URL template filled from the same stored body, sent as a GET or with
 * the query as a form body. Throws PostbackTemplateError for a template that cannot be rendered
 * (checked at save, so only for a row changed behind the API's back).
 */
export function outgoingRequest(target: DeliveryTarget): OutgoingRequest {
  const { destination } = target;
  if (destination.format === 'json') {
    return { url: destination.url, method: destination.method, body: target.body, contentType: 'application/json', requestLine: `${destination.method} ${destination.url}`, secrets: [] };
  }
  if (destination.urlTemplate === null) throw new PostbackTemplateError('postback destination without url_template');
  const method: Extract<WebhookMethod, 'GET' | 'POST'> = destination.method === 'POST' ? 'POST' : 'GET';
  const template = parsePostbackTemplate(destination.urlTemplate);
  const rendered = renderPostback(template, method, macroValues(JSON.parse(target.body) as SeedBody, target.sourceEventId), destination.templateSecrets);
  const secretValues = Object.values(destination.templateSecrets).filter((value) => value !== '');
  return {
    url: rendered.url,
    method,
    body: rendered.body,
    contentType: 'application/x-www-form-urlencoded',
    requestLine: rendered.requestLine,
    // Both as configured and as percent-encoded in the URL: an echo may show either.
    secrets: [...secretValues, ...secretValues.map((value) => encodeURIComponent(value))],
  };
}

function macroValues(body: SeedBody, transactionId: string): MacroValues {
  return {
    event: body.event,
    canonical: body.canonical,
    event_id: body.event_id,
    occurred_at_ms: body.occurred_at_ms,
    occurred_at: body.occurred_at_ms === undefined ? undefined : Math.floor(body.occurred_at_ms / 1000),
    uid: body.click?.uid,
    tg_id: body.click?.tg_id,
    fbclid: body.click?.fbclid,
    campaign_id: body.click?.campaign_id,
    campaign_name: body.click?.campaign_name,
    country: body.click?.country,
    value: body.data?.value,
    currency: body.data?.currency,
    transaction_id: transactionId,
  };
}
