/** The caller's own customer id (migration 1764590400000-accounts checks the same pattern). */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** The rule as a 400 states it, so a client can fix the id without reading the docs. */
export const ACCOUNT_ID_RULE = 'account_id must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"';

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID_PATTERN.test(value);
}
