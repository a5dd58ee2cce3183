import { describe, expect, it } from 'vitest';
import { checkAddress } from './address-policy.js';
import { parseCidrList } from './cidr.js';

function refusalReason(address: string, allowedCidrs = parseCidrList('')): string {
  const verdict = checkAddress(address, allowedCidrs);
  if (verdict.allowed) {
    throw new Error(`expected ${address} to be refused`);
  }
  return verdict.reason;
}

describe('checkAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback address 127.0.0.1'],
    ['0.0.0.0', 'unspecified address 0.0.0.0'],
    ['0.1.2.3', 'unspecified address 0.1.2.3'],
    ['10.0.0.5', 'private address 10.0.0.5'],
    ['172.31.255.255', 'private address 172.31.255.255'],
    ['192.168.1.1', 'private address 192.168.1.1'],
    ['169.254.169.254', 'link-local address 169.254.169.254 (cloud metadata)'],
    ['169.254.1.1', 'link-local address 169.254.1.1'],
    ['100.64.0.1', 'carrier-grade NAT address 100.64.0.1'],
    ['224.0.0.1', 'multicast address 224.0.0.1'],
    ['255.255.255.255', 'broadcast address 255.255.255.255'],
    ['192.0.0.8', 'reserved address 192.0.0.8'],
    ['192.0.2.1', 'reserved address 192.0.2.1'],
    ['198.18.0.1', 'reserved address 198.18.0.1'],
    ['198.19.255.254', 'reserved address 198.19.255.254'],
    ['198.51.100.1', 'reserved address 198.51.100.1'],
    ['203.0.113.1', 'reserved address 203.0.113.1'],
    ['240.0.0.1', 'reserved address 240.0.0.1'],
    ['192.88.99.1', 'reserved address 192.88.99.1'],
    ['192.175.48.1', 'AS112 address 192.175.48.1'],
    ['192.52.193.1', 'AMT address 192.52.193.1'],
  ])('refuses the IPv4 address %s', (address, reason) => {
    expect(refusalReason(address)).toBe(reason);
  });

  it.each([
    ['::', 'unspecified address ::'],
    ['::1', 'loopback address ::1'],
    ['fc00::1', 'unique-local address fc00::1'],
    ['fd12::1', 'unique-local address fd12::1'],
    ['fd00:ec2::254', 'unique-local address fd00:ec2::254 (cloud metadata)'],
    ['fe80::1', 'link-local address fe80::1'],
    ['fec0::1', 'site-local address fec0::1'],
    ['ff02::1', 'multicast address ff02::1'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback address ::ffff:127.0.0.1'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback address ::ffff:127.0.0.1'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local address ::ffff:169.254.169.254 (cloud metadata)'],
    ['::ffff:0:7f00:1', 'IPv4-translated address ::ffff:0:7f00:1'],
    ['64:ff9b::7f00:1', 'NAT64 loopback address 64:ff9b::127.0.0.1'],
    ['64:ff9b::a00:1', 'NAT64 private address 64:ff9b::10.0.0.1'],
    ['64:ff9b:1::5db8:d822', 'local-use NAT64 address 64:ff9b:1::5db8:d822'],
    ['2002:7f00:1::', '6to4 tunnel address 2002:7f00:1::'],
    ['2001::1', 'Teredo tunnel address 2001::1'],
    ['2001:2::1', 'benchmarking address 2001:2::1'],
    ['2001:db8::1', 'reserved address 2001:db8::1'],
    ['3fff::1', 'reserved address 3fff::1'],
    ['100::1', 'discard-only address 100::1'],
    ['2001:20::1', 'ORCHIDv2 address 2001:20::1'],
    ['::7f00:1', 'non-global IPv6 address ::7f00:1'],
    ['4000::1', 'non-global IPv6 address 4000::1'],
  ])('refuses the IPv6 address %s', (address, reason) => {
    expect(refusalReason(address)).toBe(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:93.184.216.34', '64:ff9b::5db8:d822'])(
    'allows the public address %s',
    (address) => {
      expect(checkAddress(address, [])).toEqual({ allowed: true });
    },
  );

  it('allows a loopback address inside the allowed CIDRs', () => {
    expect(checkAddress('127.0.0.1', parseCidrList('127.0.0.0/8'))).toEqual({ allowed: true });
  });

  it('allows an IPv4-mapped address whose IPv4 form is inside the allowed CIDRs', () => {
    expect(checkAddress('::ffff:127.0.0.1', parseCidrList('127.0.0.0/8'))).toEqual({ allowed: true });
  });

  it('still refuses a NAT64 address whose embedded IPv4 is inside the allowed CIDRs', () => {
    expect(refusalReason('64:ff9b::7f00:1', parseCidrList('127.0.0.0/8'))).toBe(
      'NAT64 loopback address 64:ff9b::127.0.0.1',
    );
  });

  it('refuses private addresses outside the allowed CIDRs', () => {
    expect(refusalReason('10.0.0.1', parseCidrList('127.0.0.0/8'))).toBe('private address 10.0.0.1');
  });

  it('refuses a string that is not an IP address', () => {
    expect(refusalReason('example.com')).toBe('not an IP address: example.com');
  });
});
