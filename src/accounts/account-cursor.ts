import { isAccountId } from './account-id.js';

/** Keyset cursor over accounts ordered by id: the last id of the page, opaque to clients. */
export function encodeAccountCursor(lastId: string): string {
  return Buffer.from(JSON.stringify([lastId])).toString('base64url');
}

/** Undefined for anything this API did not issue; an id outside the pattern never reaches SQL. */
export function decodeAccountCursor(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 1 || !isAccountId(value[0])) return undefined;
    return value[0];
  } catch {
    return undefined;
  }
}
