import ipaddr from 'ipaddr.js';
import { type Cidr, isInCidrs } from './cidr.js';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Human wording for every non-'unicast' range name ipaddr.js 2.5 knows.
 * Anything ipaddr.js names is refused; a name missing here (a future ipaddr
 * release) is still refused, just with its raw name in the reason.
 */
const RANGE_WORDING: Record<string, string> = {
  // IPv4 'unspecified' is the whole 0.0.0.0/8 "this network" block, and
  // connecting to 0.0.0.0 reaches the local host on Linux.
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  // IPv4 'reserved' already covers 192.0.0.0/24, the documentation nets
  // (192.0.2/24, 198.51.100/24, 203.0.113/24), benchmarking 198.18.0.0/15,
  // the 6to4 relay 192.88.99.0/24 and 240.0.0.0/4. IPv6 'reserved' is
  // 2001::/23, 2001:db8::/32 and 3fff::/20 (documentation).
  reserved: 'reserved',
  as112: 'AS112',
  as112v6: 'AS112',
  amt: 'AMT',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  rfc6145: 'IPv4-translated',
  // Only the 64:ff9b:1::/48 local-use prefix gets here; the well-known /96 is
  // judged by its embedded IPv4 address before range lookup.
  rfc6052: 'local-use NAT64',
  // 6to4 and Teredo tunnel to an IPv4 address we cannot vet.
  '6to4': '6to4 tunnel',
  teredo: 'Teredo tunnel',
  benchmarking: 'benchmarking',
  deprecatedOrchid: 'ORCHID',
  orchid2: 'ORCHIDv2',
  droneRemoteIdProtocolEntityTags: 'drone remote ID',
  segmentRouting: 'segment routing',
};

/** Instance metadata services: named in the reason because they are the classic SSRF prize. */
const CLOUD_METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

const NAT64_WELL_KNOWN_PREFIX = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

// ipaddr.js calls every IPv6 address it has no name for 'unicast', including
// the deprecated IPv4-compatible block ::/96 (e.g. ::7f00:1) and space IANA
// has never allocated. Only 2000::/3 is routed on the public internet.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Decides whether a webhook may be delivered to `address`: only public
 * unicast addresses, plus whatever the operator listed in `allowedCidrs`.
 * The allow-list is matched against the address itself (and the IPv4 inside
 * an IPv4-mapped address), never against the IPv4 inside a NAT64 address:
 * that one is reached through a translator, not directly.
 */
export function checkAddress(address: string, allowedCidrs: Cidr[]): AddressVerdict {
  if (!ipaddr.isValid(address)) {
    return { allowed: false, reason: `not an IP address: ${address}` };
  }
  const parsed = ipaddr.parse(address);
  if (isInCidrs(parsed, allowedCidrs)) {
    return { allowed: true };
  }
  const reason = parsed instanceof ipaddr.IPv4 ? ipv4Refusal(parsed) : ipv6Refusal(parsed);
  return reason === null ? { allowed: true } : { allowed: false, reason };
}

/** Why `address` is not public, or null when it is. */
function ipv4Refusal(address: ipaddr.IPv4, shownAs = address.toString(), prefix = ''): string | null {
  const range = address.range();
  if (range === 'unicast') {
    return null;
  }
  return `${prefix}${describe(range)} address ${shownAs}${metadataNote(address)}`;
}

function ipv6Refusal(address: ipaddr.IPv6): string | null {
  // Both of these forms carry a whole IPv4 address that is where the packets
  // really go, so the IPv4 address decides. NAT64 must not be refused
  // outright: on IPv6-only hosts behind DNS64 every public site resolves to it.
  if (address.isIPv4MappedAddress()) {
    const embedded = address.toIPv4Address();
    return ipv4Refusal(embedded, `::ffff:${embedded}`, 'IPv4-mapped ');
  }
  if (address.match(NAT64_WELL_KNOWN_PREFIX)) {
    const embedded = ipaddr.fromByteArray(address.toByteArray().slice(12)) as ipaddr.IPv4;
    return ipv4Refusal(embedded, `64:ff9b::${embedded}`, 'NAT64 ');
  }

  const range = address.range();
  if (range !== 'unicast') {
    return `${describe(range)} address ${address}${metadataNote(address)}`;
  }
  if (!address.match(IPV6_GLOBAL_UNICAST)) {
    return `non-global IPv6 address ${address}`;
  }
  return null;
}

function metadataNote(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return CLOUD_METADATA_ADDRESSES.has(address.toString()) ? ' (cloud metadata)' : '';
}

function describe(range: string): string {
  return RANGE_WORDING[range] ?? `special-purpose (${range})`;
}
