import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { NON_PUBLIC_ADDRESS_CODE } from '../../contract/delivery-error-types.js';
import { checkAddress } from './address-policy.js';
import type { Cidr } from './cidr.js';
import { type HostResolver, NON_PUBLIC_RULE, systemResolver } from './destination-url-policy.js';

/** `code` of the error a refused connection fails with; the send activity reads it from the contract. */
export { NON_PUBLIC_ADDRESS_CODE };

/**
 * The message becomes the attempt's error, which the deliveries API shows: for a name it states
 * the rule, never the address the name resolved to (that would map internal DNS). An IP literal's
 * reason may name it, since it is in the URL the caller saved.
 */
function nonPublicAddressError(detail: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`destination resolves to a non-public address (${detail})`);
  error.code = NON_PUBLIC_ADDRESS_CODE;
  return error;
}

/**
 * A `lookup` for net.connect/tls.connect that resolves the name and vets the
 * result in one step, so the address checked is the address dialled. Checking
 * the URL at save time and letting the socket resolve again later would let a
 * rebinding DNS server answer "public" to the first lookup and "127.0.0.1" to
 * the second.
 */
export function createGuardedLookup(allowedCidrs: Cidr[], resolver: HostResolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`${hostname} did not resolve to any address`);
          error.code = 'ENOTFOUND';
          callback(error, []);
          return;
        }
        if (addresses.some((address) => !checkAddress(address, allowedCidrs).allowed)) {
          callback(nonPublicAddressError(NON_PUBLIC_RULE), []);
          return;
        }
        // options.family is not used to filter: every address is already
        // vetted, and Node dials each one with the family we report.
        const results: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
        // Node's happy-eyeballs (autoSelectFamily, on by default since Node 20)
        // asks for all addresses; plain connects ask for one.
        if (options.all) {
          callback(null, results);
        } else {
          callback(null, results[0].address, results[0].family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/**
 * An undici connector (`new Agent({ connect: createGuardedConnector(...) })`)
 * that only dials public addresses.
 *
 * The guarded lookup alone is not enough: net.connect and tls.connect skip
 * `lookup` entirely when the host is already an IP literal, so
 * `http://127.0.0.1/` would connect unchecked. Literals are therefore checked
 * here, and names are left to the guarded lookup so that the check and the
 * connect share one DNS answer. (undici hands us IPv6 literals without
 * brackets.)
 */
export function createGuardedConnector(
  allowedCidrs: Cidr[],
  resolver: HostResolver = systemResolver,
): buildConnector.connector {
  const connect = buildConnector({ lookup: createGuardedLookup(allowedCidrs, resolver) });
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const verdict = checkAddress(options.hostname, allowedCidrs);
      if (!verdict.allowed) {
        callback(nonPublicAddressError(verdict.reason), null);
        return;
      }
    }
    connect(options, callback);
  };
}
