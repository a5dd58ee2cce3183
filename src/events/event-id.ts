import { createHash } from 'node:crypto';

/**
 * The event_id of one event → destination dispatch: the first 32 hex digits (128 bits) of
 * SHA-256 over `<account id>\n<idempotency key>\n<destination id>`, so the same event always
 * yields the same id for the same destination and receivers can deduplicate on it, while two
 * accounts that both send `evt-42` get different ids. The separator cannot occur in any part:
 * account ids are [A-Za-z0-9._:-], idempotency keys printable ASCII without spaces, destination ids UUIDs.
 */
export function deliveryEventId(accountId: string, idempotencyKey: string, destinationId: string): string {
  return createHash('sha256').update(`${accountId}\n${idempotencyKey}\n${destinationId}`).digest('hex').slice(0, 32);
}
