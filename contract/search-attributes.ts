import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes every delivery workflow carries, so operators can filter
 * deliveries in the Temporal UI, e.g. `DestinationId="…" AND ExecutionStatus="Running"`.
 */
/** The customer account the delivery belongs to: `AccountId="acme" AND ExecutionStatus="Running"`. */
export const ACCOUNT_ID = defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD);
export const DESTINATION_ID = defineSearchAttributeKey('DestinationId', SearchAttributeType.KEYWORD);
export const CANONICAL_EVENT = defineSearchAttributeKey('CanonicalEvent', SearchAttributeType.KEYWORD);
export const TARGET_EVENT = defineSearchAttributeKey('TargetEvent', SearchAttributeType.KEYWORD);
export const DELIVERY_STATUS = defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD);

export const DELIVERY_SEARCH_ATTRIBUTES = [ACCOUNT_ID, DESTINATION_ID, CANONICAL_EVENT, TARGET_EVENT, DELIVERY_STATUS];
