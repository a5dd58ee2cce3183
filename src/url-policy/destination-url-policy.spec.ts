import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';
import { DestinationUrlPolicy, type HostResolver, NON_PUBLIC_RULE, UrlPolicyError } from './destination-url-policy.js';

/** Resolves only the names it is given; never touches real DNS. */
function fakeResolver(records: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const addresses = records[hostname];
    if (addresses === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addresses;
  };
  return Object.assign(resolver, { calls });
}

const resolver = fakeResolver({
  'example.com': ['93.184.216.34'],
  'public.test': ['93.184.216.34', '2606:4700::1111'],
  'internal.test': ['10.0.0.1'],
  'mixed.test': ['93.184.216.34', '10.0.0.1'],
  'empty.test': [],
});

async function refusalReason(policy: DestinationUrlPolicy, url: string): Promise<string> {
  const error = await policy.check(url).then(
    () => expect.fail(`expected ${url} to be refused`),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UrlPolicyError);
  return (error as UrlPolicyError).reason;
}

describe('DestinationUrlPolicy', () => {
  const policy = new DestinationUrlPolicy([], resolver);

  it.each([
    ['http://127.0.0.1/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://2130706433/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://0x7f000001/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://0x7f.1/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://017700000001/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://127.1/', 'url host is not public: loopback address 127.0.0.1'],
    ['http://127.0.0.1./', 'url host is not public: loopback address 127.0.0.1'],
    ['http://0.0.0.0/', 'url host is not public: unspecified address 0.0.0.0'],
    ['http://[::]/', 'url host is not public: unspecified address ::'],
    ['http://[::1]/', 'url host is not public: loopback address ::1'],
    ['http://[::ffff:127.0.0.1]/', 'url host is not public: IPv4-mapped loopback address ::ffff:127.0.0.1'],
    ['http://[::ffff:7f00:1]/', 'url host is not public: IPv4-mapped loopback address ::ffff:127.0.0.1'],
    ['http://10.0.0.1/', 'url host is not public: private address 10.0.0.1'],
    ['http://172.16.0.1/', 'url host is not public: private address 172.16.0.1'],
    ['http://192.168.1.1/', 'url host is not public: private address 192.168.1.1'],
    ['http://169.254.169.254/', 'url host is not public: link-local address 169.254.169.254 (cloud metadata)'],
    ['http://100.64.0.1/', 'url host is not public: carrier-grade NAT address 100.64.0.1'],
    ['http://224.0.0.1/', 'url host is not public: multicast address 224.0.0.1'],
    ['http://255.255.255.255/', 'url host is not public: broadcast address 255.255.255.255'],
    ['http://240.0.0.1/', 'url host is not public: reserved address 240.0.0.1'],
    ['http://[fc00::1]/', 'url host is not public: unique-local address fc00::1'],
    ['http://[fd12::1]/', 'url host is not public: unique-local address fd12::1'],
    ['http://[fe80::1]/', 'url host is not public: link-local address fe80::1'],
    ['http://[64:ff9b::7f00:1]/', 'url host is not public: NAT64 loopback address 64:ff9b::127.0.0.1'],
    ['http://[64:ff9b::a00:1]/', 'url host is not public: NAT64 private address 64:ff9b::10.0.0.1'],
    ['http://[2002:7f00:1::]/', 'url host is not public: 6to4 tunnel address 2002:7f00:1::'],
    ['ftp://example.com/', 'url scheme must be http or https'],
    ['javascript:alert(1)', 'url scheme must be http or https'],
    ['https://user:pass@example.com/', 'url must not contain credentials'],
    ['https://user@example.com/', 'url must not contain credentials'],
  ])('refuses %s', async (url, reason) => {
    expect(await refusalReason(policy, url)).toBe(reason);
  });

  it.each(['http://93.184.216.34/', 'https://[2606:4700::1111]/hook', 'https://public.test:8443/hook?x=1'])(
    'allows %s',
    async (url) => {
      expect((await policy.check(url)).href).toBe(url);
    },
  );

  it('returns the URL as the WHATWG parser normalised it', async () => {
    expect((await policy.check('HTTPS://Example.COM/Hook')).href).toBe('https://example.com/Hook');
  });

  it('checks IP literal hosts without resolving them', async () => {
    const recording = fakeResolver({});

    await new DestinationUrlPolicy([], recording).check('http://93.184.216.34/');

    expect(recording.calls).toEqual([]);
  });

  it('allows a loopback host when 127.0.0.0/8 is in the allowed CIDRs', async () => {
    const allowLoopback = new DestinationUrlPolicy(parseCidrList('127.0.0.0/8'), resolver);

    expect((await allowLoopback.check('http://127.0.0.1:8080/')).port).toBe('8080');
  });

  it.each(['http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://127.1/'])(
    'returns %s with its host normalised to 127.0.0.1',
    async (url) => {
      const allowLoopback = new DestinationUrlPolicy(parseCidrList('127.0.0.0/8'), resolver);

      expect((await allowLoopback.check(url)).hostname).toBe('127.0.0.1');
    },
  );

  it('allows an IPv4-mapped loopback host when 127.0.0.0/8 is in the allowed CIDRs', async () => {
    const allowLoopback = new DestinationUrlPolicy(parseCidrList('127.0.0.0/8'), resolver);

    expect((await allowLoopback.check('http://[::ffff:127.0.0.1]/')).hostname).toBe('[::ffff:7f00:1]');
  });

  it.each([
    ['http://internal.test/', 'internal.test', '10.0.0.1'],
    ['http://mixed.test/', 'mixed.test', '10.0.0.1'],
  ])('refuses %s naming the rule, not the address the name resolved to', async (url, host, address) => {
    const reason = await refusalReason(policy, url);

    expect(reason).toBe(`url host "${host}" resolves to a non-public address (${NON_PUBLIC_RULE})`);
    expect(reason).not.toContain(address);
  });

  it('refuses localhost because it resolves to loopback, without echoing the loopback address', async () => {
    const localhostResolver = fakeResolver({ localhost: ['127.0.0.1', '::1'] });

    const reason = await refusalReason(new DestinationUrlPolicy([], localhostResolver), 'http://localhost:3000/');

    expect(reason).toBe(`url host "localhost" resolves to a non-public address (${NON_PUBLIC_RULE})`);
    expect(reason).not.toContain('127.0.0.1');
  });

  it('refuses a host that does not resolve', async () => {
    expect(await refusalReason(policy, 'http://x.invalid/')).toBe('url host "x.invalid" does not resolve');
  });

  it('refuses a host that resolves to no addresses', async () => {
    expect(await refusalReason(policy, 'http://empty.test/')).toBe('url host "empty.test" does not resolve');
  });

  it('refuses a string that is not an absolute URL', async () => {
    expect(await refusalReason(policy, '/relative/path')).toBe('url is not a valid absolute URL');
  });

  it('refuses a URL longer than 2048 characters', async () => {
    const url = `https://example.com/${'a'.repeat(2048)}`;

    expect(await refusalReason(policy, url)).toBe('url is longer than 2048 characters');
  });

  it('allows a URL of exactly 2048 characters', async () => {
    const prefix = 'https://example.com/';
    const url = prefix + 'a'.repeat(2048 - prefix.length);

    expect((await policy.check(url)).href).toBe(url);
  });

  it('uses the reason as the error message', () => {
    expect(new UrlPolicyError('url scheme must be http or https').message).toBe('url scheme must be http or https');
  });
});
