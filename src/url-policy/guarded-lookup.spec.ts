import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';
import { type HostResolver, NON_PUBLIC_RULE } from './destination-url-policy.js';
import { createGuardedConnector, createGuardedLookup, NON_PUBLIC_ADDRESS_CODE } from './guarded-lookup.js';

// These tests never send traffic beyond loopback: names are resolved by
// injected resolvers, and public answers are only inspected, never dialled.

function resolverOf(addresses: string[]): HostResolver {
  return async () => addresses;
}

type LookupResult = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookupWith(resolver: HostResolver, options: { all?: boolean }, allowedCidrs = parseCidrList('')) {
  const lookup = createGuardedLookup(allowedCidrs, resolver);
  return new Promise<LookupResult>((resolve) => {
    lookup('hook.test', options, (error, address, family) => resolve({ error, address, family }));
  });
}

describe('createGuardedLookup', () => {
  it('returns every address when asked for all of them', async () => {
    const result = await lookupWith(resolverOf(['93.184.216.34', '2606:4700::1111']), { all: true });

    expect(result).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ],
      family: undefined,
    });
  });

  it('returns the first address and its family when asked for one', async () => {
    const result = await lookupWith(resolverOf(['2606:4700::1111', '93.184.216.34']), {});

    expect(result).toEqual({ error: null, address: '2606:4700::1111', family: 6 });
  });

  it('fails with ERR_DESTINATION_NOT_PUBLIC naming the rule, not the address, when the name resolves to a private address', async () => {
    const { error } = await lookupWith(resolverOf(['10.1.2.3']), { all: true });

    expect(error?.code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(error?.message).toBe(`destination resolves to a non-public address (${NON_PUBLIC_RULE})`);
  });

  it('fails when any one of several addresses is not public', async () => {
    const { error } = await lookupWith(resolverOf(['93.184.216.34', '127.0.0.1']), {});

    expect(error?.code).toBe(NON_PUBLIC_ADDRESS_CODE);
  });

  it('returns a loopback address inside the allowed CIDRs', async () => {
    const result = await lookupWith(resolverOf(['127.0.0.1']), {}, parseCidrList('127.0.0.0/8'));

    expect(result).toEqual({ error: null, address: '127.0.0.1', family: 4 });
  });

  it('fails with ENOTFOUND when the name has no addresses', async () => {
    const { error } = await lookupWith(resolverOf([]), { all: true });

    expect(error?.code).toBe('ENOTFOUND');
  });

  it('passes resolver failures through', async () => {
    const failure = Object.assign(new Error('queryA ETIMEOUT hook.test'), { code: 'ETIMEOUT' });

    const { error } = await lookupWith(() => Promise.reject(failure), { all: true });

    expect(error).toBe(failure);
  });
});

describe('createGuardedLookup at connect time, for every forbidden address form', () => {
  it.each([
    '127.0.0.1',
    '0.0.0.0',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '240.0.0.1',
    'fc00::1',
    'fe80::1',
    '64:ff9b::a00:1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
  ])('refuses a name resolving to %s before any connection, without echoing the address', async (address) => {
    const { error } = await lookupWith(resolverOf([address]), { all: true });

    expect(error?.code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(error?.message).toBe(`destination resolves to a non-public address (${NON_PUBLIC_RULE})`);
    expect(error?.message).not.toContain(address);
  });
});

describe('createGuardedConnector', () => {
  it('refuses an IPv6 literal without calling the resolver or dialling', async () => {
    let resolverCalls = 0;
    const connector = createGuardedConnector([], async () => {
      resolverCalls += 1;
      return [];
    });

    const error = await new Promise<Error | null>((resolve) => {
      connector({ hostname: '::1', protocol: 'http:', port: '80' }, (...[err]) => resolve(err));
    });

    expect((error as NodeJS.ErrnoException).code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(error?.message).toContain('loopback address ::1');
    expect(resolverCalls).toBe(0);
  });
});

describe('undici Agent with the guarded connector (loopback server)', () => {
  let server: Server;
  let port: number;
  let connections: number;
  let requests: number;
  let agent: Agent | undefined;

  beforeEach(async () => {
    connections = 0;
    requests = 0;
    server = createServer((_req, res) => {
      requests += 1;
      res.end('delivered');
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function dispatcherFor(allowedCidrs: string, resolver?: HostResolver): Agent {
    agent = new Agent({ connect: createGuardedConnector(parseCidrList(allowedCidrs), resolver) });
    return agent;
  }

  async function refusal(url: string, dispatcher: Agent): Promise<NodeJS.ErrnoException> {
    return request(url, { dispatcher }).then(
      () => expect.fail(`expected request to ${url} to be refused`),
      (error: NodeJS.ErrnoException) => error,
    );
  }

  it('refuses a request to a loopback IP literal before connecting', async () => {
    const error = await refusal(`http://127.0.0.1:${port}/`, dispatcherFor(''));

    expect(error.code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(error.message).toContain('loopback address 127.0.0.1');
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it('delivers to a loopback IP literal when 127.0.0.0/8 is allowed', async () => {
    const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: dispatcherFor('127.0.0.0/8') });

    expect(await response.body.text()).toBe('delivered');
    expect(requests).toBe(1);
  });

  it('refuses a name that rebinds to loopback without opening a connection', async () => {
    const dispatcher = dispatcherFor('', resolverOf(['127.0.0.1']));

    const error = await refusal(`http://rebind.test:${port}/`, dispatcher);

    expect(error.code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(connections).toBe(0);
  });

  it('refuses a name that resolves to one public and one loopback address without connecting', async () => {
    const dispatcher = dispatcherFor('', resolverOf(['93.184.216.34', '127.0.0.1']));

    const error = await refusal(`http://rebind.test:${port}/`, dispatcher);

    expect(error.code).toBe(NON_PUBLIC_ADDRESS_CODE);
    expect(connections).toBe(0);
  });

  it('delivers to a name resolving to loopback when 127.0.0.0/8 is allowed', async () => {
    const dispatcher = dispatcherFor('127.0.0.0/8', resolverOf(['127.0.0.1']));

    const response = await request(`http://rebind.test:${port}/`, { dispatcher });

    expect(await response.body.text()).toBe('delivered');
    expect(requests).toBe(1);
  });
});
