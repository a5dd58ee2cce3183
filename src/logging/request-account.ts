/** A tenant path; only a valid account id is taken, so nothing else of the path becomes a log field. */
const TENANT_PATH = /^\/v1\/accounts\/([A-Za-z0-9._:-]{1,64})(?:[/?]|$)/;

/** The account a request acts on, as a log binding: `{ account_id }` for a tenant path, nothing otherwise. */
export function accountOfRequestPath(url: string | undefined): { account_id: string } | Record<string, never> {
  const match = TENANT_PATH.exec(url ?? '');
  return match?.[1] ? { account_id: match[1] } : {};
}
