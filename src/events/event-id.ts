import { createHash } from 'node:crypto';

/**
 * The event_id of one event → destination dispatch: a hash of the producer's idempotency key
 * and the destination id, so the same event always yields the same id for the same destination
 * and receivers can deduplicate on it. 128 bits of SHA-256, hex.
 */
export function deliveryEventId(idempotencyKey: string, destinationId: string): string {
  return createHash('sha256').update(`${idempotencyKey}\n${destinationId}`).digest('hex').slice(0, 32);
}
