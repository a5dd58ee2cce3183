import { randomBytes } from 'node:crypto';

const SECRET_BYTES = 24;

/** A Standard Webhooks secret, as destinations have: `whsec_` and base64 of random bytes. */
export function newOperationalWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}
