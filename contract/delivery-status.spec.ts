import { describe, expect, it } from 'vitest';
import { allowedPredecessors, DELIVERY_STATUSES, isAllowedTransition, type DeliveryStatus } from './delivery-status.js';

/** Written out rather than derived from the table, so that a wrong table fails here. */
const LEGAL: Array<[DeliveryStatus, DeliveryStatus]> = [
  ['pending', 'retrying'],
  ['pending', 'sent'],
  ['pending', 'failed'],
  ['pending', 'cancelled'],
  ['retrying', 'retrying'],
  ['retrying', 'sent'],
  ['retrying', 'failed'],
  ['retrying', 'cancelled'],
  ['failed', 'pending'],
  ['cancelled', 'pending'],
  ['pending', 'skipped'],
  ['retrying', 'skipped'],
  ['skipped', 'pending'],
];

const ILLEGAL: Array<[DeliveryStatus, DeliveryStatus, string]> = [
  ['pending', 'pending', 'a delivery not yet finished cannot be claimed for a retry'],
  ['retrying', 'pending', 'a delivery not yet finished cannot be claimed for a retry'],
  ['sent', 'pending', 'an acknowledged delivery is never sent again'],
  ['sent', 'retrying', 'a late attempt cannot reopen an acknowledged delivery'],
  ['sent', 'sent', 'a repeated acceptance is not a second one'],
  ['sent', 'failed', 'an acknowledged delivery cannot fail afterwards'],
  ['sent', 'cancelled', 'an acknowledged delivery cannot be cancelled afterwards'],
  ['failed', 'retrying', 'a late attempt cannot reopen a failed delivery'],
  ['failed', 'sent', 'a late attempt cannot reopen a failed delivery'],
  ['failed', 'failed', 'a repeated finish is not a second one'],
  ['failed', 'cancelled', 'a failed delivery stays failed'],
  ['cancelled', 'retrying', 'a late attempt cannot reopen a cancelled delivery'],
  ['cancelled', 'sent', 'a late attempt cannot reopen a cancelled delivery'],
  ['cancelled', 'failed', 'a cancelled delivery stays cancelled'],
  ['cancelled', 'cancelled', 'a repeated cancel is not a second one'],
  ['sent', 'skipped', 'an acknowledged delivery is never skipped afterwards'],
  ['failed', 'skipped', 'a failed delivery stays failed'],
  ['cancelled', 'skipped', 'a cancelled delivery stays cancelled'],
  ['skipped', 'skipped', 'a repeated skip is not a second one'],
  ['skipped', 'retrying', 'a late attempt cannot reopen a skipped delivery'],
  ['skipped', 'sent', 'a late attempt cannot reopen a skipped delivery'],
  ['skipped', 'failed', 'a skipped delivery stays skipped'],
  ['skipped', 'cancelled', 'a skipped delivery stays skipped'],
];

describe('delivery status transitions', () => {
  it.each(ILLEGAL)('refuses %s → %s: %s', (from, to) => {
    expect(isAllowedTransition(from, to)).toBe(false);
    expect(allowedPredecessors(to)).not.toContain(from);
  });

  it.each(LEGAL)('allows %s → %s', (from, to) => {
    expect(isAllowedTransition(from, to)).toBe(true);
  });

  it('names every pair of statuses as legal or illegal', () => {
    const named = new Set([...LEGAL, ...ILLEGAL].map(([from, to]) => `${from}→${to}`));
    expect(named.size).toBe(DELIVERY_STATUSES.length ** 2);
  });
});
