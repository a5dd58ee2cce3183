import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` is stable across attempts (receivers
 * deduplicate on it), `webhook-timestamp` is the attempt's own (seconds), and `webhook-signature`
 * lists one `v1,<base64>` signature per secret, space-separated, so a receiver that still holds
 * the previous secret during a rotation verifies too.
 */
export function standardWebhookHeaders(id: string, secrets: readonly string[], body: string, nowMs: number): Record<string, string> {
  const timestamp = new Date(nowMs);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(nowMs / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' '),
  };
}
