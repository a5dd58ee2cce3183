import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { DELIVERY_SEARCH_ATTRIBUTES } from '../../contract/search-attributes.js';

/**
 * Registers the delivery search attributes on the namespace when they are missing, so a fresh
 * cluster needs no manual step. Safe to run from every worker at every start.
 */
export async function ensureDeliverySearchAttributes(connection: NativeConnection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = DELIVERY_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (error) {
    // Another worker registered them first.
    if ((error as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw error;
  }
  return missing.map((key) => key.name);
}
