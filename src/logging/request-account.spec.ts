import { describe, expect, it } from 'vitest';
import { accountOfRequestPath } from './request-account.js';

describe('accountOfRequestPath', () => {
  it.each([
    ['/v1/accounts/acme/destinations', { account_id: 'acme' }],
    ['/v1/accounts/cust:42.eu-1/events?x=1', { account_id: 'cust:42.eu-1' }],
    ['/v1/accounts/acme', { account_id: 'acme' }],
  ])('binds the account of %s', (url, expected) => {
    expect(accountOfRequestPath(url)).toEqual(expected);
  });

  it.each(['/v1/accounts', '/v1/accounts/', '/v1/accounts/a%20b/destinations', `/v1/accounts/${'a'.repeat(65)}/x`, '/health', undefined])(
    'binds nothing for %s',
    (url) => {
      expect(accountOfRequestPath(url)).toEqual({});
    },
  );
});
