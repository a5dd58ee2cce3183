import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkAddress } from './address-policy.js';
import type { Cidr } from './cidr.js';

const MAX_URL_LENGTH = 2048;

/** A destination URL was refused; `reason` is safe to show to the customer. */
export class UrlPolicyError extends Error {
  override readonly name = 'UrlPolicyError';

  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The rule a name broke, without the address it resolved to: echoing that would let anyone who can
 * save a destination (or read its attempts) map internal DNS one name at a time.
 */
export const NON_PUBLIC_RULE =
  'only public unicast addresses are allowed: loopback, private, link-local, carrier-grade NAT, unique-local, multicast, reserved and other special-purpose ranges are refused';

/** Resolves a hostname to every IPv4/IPv6 address it currently has. */
export type HostResolver = (hostname: string) => Promise<string[]>;

/**
 * Uses getaddrinfo (like the HTTP client will), so /etc/hosts and search
 * domains are honoured. `verbatim` keeps the resolver's order instead of
 * Node re-sorting IPv4 first; we check every address anyway.
 */
export const systemResolver: HostResolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => result.address);
};

/**
 * Validates webhook destination URLs typed by customers, at save time. This
 * gives a clear error early, but DNS can change afterwards (rebinding), so
 * delivery must still go through createGuardedConnector (guarded-lookup.ts).
 */
export class DestinationUrlPolicy {
  constructor(
    private readonly allowedCidrs: Cidr[],
    private readonly resolver: HostResolver = systemResolver,
  ) {}

  /** Returns the parsed URL, or throws UrlPolicyError saying why it is refused. */
  async check(rawUrl: string): Promise<URL> {
    if (rawUrl.length > MAX_URL_LENGTH) {
      throw new UrlPolicyError(`url is longer than ${MAX_URL_LENGTH} characters`);
    }
    // The WHATWG parser is the one undici uses, and it canonicalises numeric
    // host tricks (2130706433, 0x7f.1, 017700000001, 127.1) to dotted IPv4,
    // so the host we check is the host that will be dialled.
    if (!URL.canParse(rawUrl)) {
      throw new UrlPolicyError('url is not a valid absolute URL');
    }
    const url = new URL(rawUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UrlPolicyError('url scheme must be http or https');
    }
    // Credentials would be sent to the customer's endpoint on every delivery
    // and end up in our logs and database with the URL.
    if (url.username !== '' || url.password !== '') {
      throw new UrlPolicyError('url must not contain credentials');
    }

    // IPv6 literals keep their brackets in URL.hostname. A literal's reason may name the address:
    // the caller typed it, so it reveals nothing about our network.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0) {
      const verdict = checkAddress(host, this.allowedCidrs);
      if (!verdict.allowed) {
        throw new UrlPolicyError(`url host is not public: ${verdict.reason}`);
      }
      return url;
    }

    // "localhost" and friends need no special case: they resolve to loopback,
    // which the address rule refuses unless the operator allowed it.
    const addresses = await this.resolveOrEmpty(host);
    if (addresses.length === 0) {
      throw new UrlPolicyError(`url host "${host}" does not resolve`);
    }
    // A name with one public and one private address is refused: the client
    // may pick either, and an attacker controls which comes first.
    if (addresses.some((address) => !checkAddress(address, this.allowedCidrs).allowed)) {
      throw new UrlPolicyError(`url host "${host}" resolves to a non-public address (${NON_PUBLIC_RULE})`);
    }
    return url;
  }

  /** Any lookup failure (NXDOMAIN, timeout, SERVFAIL) means we cannot vet the host. */
  private async resolveOrEmpty(host: string): Promise<string[]> {
    try {
      return await this.resolver(host);
    } catch {
      return [];
    }
  }
}
