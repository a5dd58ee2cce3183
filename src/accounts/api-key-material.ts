import { createHash, randomBytes } from 'node:crypto';

/** Marks a key as an account key, so the guard looks it up and a leaked one is recognisable in a scan. */
export const ACCOUNT_KEY_PREFIX = 'xtk_';
/** 256 bits: guessing is hopeless, so a plain (unsalted, fast) digest is enough to store it. */
const KEY_RANDOM_BYTES = 32;
/** `xtk_` and 8 random characters: enough to recognise a key in a listing, far too little to guess the rest. */
export const DISPLAYED_PREFIX_LENGTH = 12;
/** The exact shape of a key this service issues: anything else is refused without a database lookup. */
const ACCOUNT_KEY = /^xtk_[A-Za-z0-9_-]{43}$/;

export interface AccountKeyMaterial {
  /** Shown to the caller once, never stored. */
  key: string;
  prefix: string;
  digest: Buffer;
}

export function generateAccountKey(): AccountKeyMaterial {
  const key = `${ACCOUNT_KEY_PREFIX}${randomBytes(KEY_RANDOM_BYTES).toString('base64url')}`;
  return { key, prefix: key.slice(0, DISPLAYED_PREFIX_LENGTH), digest: accountKeyDigest(key) };
}

export function isAccountKeyShape(token: string): boolean {
  return ACCOUNT_KEY.test(token);
}

/** SHA-256 of the whole key: what api_keys.digest holds and the lookup compares. */
export function accountKeyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
