import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { isInCidrs, parseCidrList } from './cidr.js';

describe('parseCidrList', () => {
  it('returns no networks for an empty string', () => {
    expect(parseCidrList('')).toEqual([]);
  });

  it('parses comma-separated IPv4 and IPv6 networks with surrounding whitespace', () => {
    const cidrs = parseCidrList(' 10.20.0.0/16 ,fd00::/8 ');

    expect(cidrs.map(([network, prefix]) => `${network}/${prefix}`)).toEqual(['10.20.0.0/16', 'fd00::/8']);
  });

  it('treats a bare IPv4 address as a /32', () => {
    expect(parseCidrList('127.0.0.1')[0][1]).toBe(32);
  });

  it('treats a bare IPv6 address as a /128', () => {
    expect(parseCidrList('::1')[0][1]).toBe(128);
  });

  it('throws naming the entry that is not an address', () => {
    expect(() => parseCidrList('10.0.0.0/8, not-an-ip/8')).toThrow('"not-an-ip/8"');
  });

  it('throws naming the entry whose prefix length is out of range', () => {
    expect(() => parseCidrList('10.0.0.0/33')).toThrow('"10.0.0.0/33"');
  });

  it('refuses inet_aton shorthand such as 10/8, which would mean 0.0.0.10/8', () => {
    expect(() => parseCidrList('10/8')).toThrow('"10/8"');
  });
});

describe('isInCidrs', () => {
  const loopbackNet = parseCidrList('127.0.0.0/8');

  it('matches an IPv4 address inside an IPv4 network', () => {
    expect(isInCidrs(ipaddr.parse('127.0.0.5'), loopbackNet)).toBe(true);
  });

  it('does not match an address outside every network', () => {
    expect(isInCidrs(ipaddr.parse('10.0.0.1'), loopbackNet)).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 address against IPv4 networks', () => {
    expect(isInCidrs(ipaddr.parse('::ffff:127.0.0.1'), loopbackNet)).toBe(true);
  });

  it('does not match an IPv6 address against IPv4 networks', () => {
    expect(isInCidrs(ipaddr.parse('::1'), loopbackNet)).toBe(false);
  });
});
