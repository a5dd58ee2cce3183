import ipaddr from 'ipaddr.js';

/** A network as ipaddr.js represents it: base address and prefix length. */
export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses an operator-supplied, comma-separated list such as
 * `"10.20.0.0/16, 127.0.0.1, fd00::/8"`. A bare address is a single host
 * (/32 or /128). Throws on the first bad entry so a typo in configuration
 * fails at startup instead of silently allowing or refusing traffic.
 */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseCidr);
}

function parseCidr(entry: string): Cidr {
  const [address, prefix, ...extra] = entry.split('/');
  // ipaddr.js accepts inet_aton shorthands ("10" is 0.0.0.10), so "10/8" would
  // quietly mean 0.0.0.0/8. Configuration must spell IPv4 as four decimal parts.
  const wellFormed =
    extra.length === 0 && (ipaddr.IPv6.isValid(address) || ipaddr.IPv4.isValidFourPartDecimal(address));
  if (!wellFormed) {
    throw new Error(`invalid CIDR entry "${entry}"`);
  }
  if (prefix === undefined) {
    const host = ipaddr.parse(address);
    return [host, host.kind() === 'ipv4' ? 32 : 128];
  }
  try {
    return ipaddr.parseCIDR(entry);
  } catch {
    throw new Error(`invalid CIDR entry "${entry}": bad prefix length`);
  }
}

/**
 * True when `address` lies in one of `cidrs`. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`) reaches the same IPv4 host on a dual-stack socket, so it
 * is also matched against the IPv4 entries.
 */
export function isInCidrs(address: ipaddr.IPv4 | ipaddr.IPv6, cidrs: Cidr[]): boolean {
  const candidates: (ipaddr.IPv4 | ipaddr.IPv6)[] = [address];
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    candidates.push(address.toIPv4Address());
  }
  // ipaddr's match() throws when the families differ, hence the kind check.
  return candidates.some((candidate) =>
    cidrs.some(([network, prefix]) => network.kind() === candidate.kind() && candidate.match(network, prefix)),
  );
}
