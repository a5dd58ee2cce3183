import { Controller, Get, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountAccessModule } from '../src/accounts/account-access.module.js';
import { PortalAccessModule } from '../src/portal/portal-access.module.js';
import { ApiKeyGuard } from '../src/common/api-key.guard.js';
import { FailedAuthLimiter } from '../src/common/failed-auth-limiter.js';
import { HttpExceptionFilter } from '../src/common/http-exception.filter.js';
import { Authenticated, PublicRoute } from '../src/common/route-access.decorator.js';
import { loadConfig } from '../src/config/app-config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { DatabaseModule } from '../src/database/database.module.js';
import { bearer } from './support/accounts.js';
import { createAccount, createAccountKey } from './support/fixtures.js';
import { useTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

interface Route {
  method: string;
  /** As Express holds it: `/v1/destinations/:id`. */
  path: string;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface RawRequest {
  method: string;
  /** Sent byte for byte: node:http, unlike fetch and URL, keeps `//`, `/./` and `..` as written. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A loopback source address, so each test of the per-address limit has an address of its own. */
  localAddress?: string;
}

function send(baseUrl: string, { method, path, headers = {}, body, localAddress }: RawRequest): Promise<RawAnswer> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: Number(port),
        method,
        path,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        localAddress,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Routes anyone may call; everything else the server routes must demand a key. Swagger serves
 * `/docs`, its assets, `/openapi.json` and `/docs-yaml` outside Nest's guards. The customer
 * portal's own pages are public (they hold no data; test/portal-sessions.test.ts covers them).
 */
function isPublic(path: string): boolean {
  return ['/health', '/ready', '/metrics', '/openapi.json'].includes(path) || path.startsWith('/docs') || path === '/portal' || path.startsWith('/portal/');
}

/**
 * Every route the HTTP server answers, read from Express's router after Nest registered its
 * controllers and Swagger its pages, so a new route is covered without touching this file.
 */
function servedRoutes(app: TestApp): Route[] {
  const router = app.nest.getHttpAdapter().getInstance().router as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
  return router.stack.flatMap(({ route }) =>
    // Middleware Nest mounts for every path (`{/*splat}`) sits in the same stack; it answers nothing itself.
    route && !route.path.includes('*') ? Object.keys(route.methods).map((method) => ({ method: method.toUpperCase(), path: route.path })) : [],
  );
}

/** Valid-looking values, so nothing but the missing key could be the reason for a refusal. */
function fillParams(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) =>
    name === 'event_id' ? randomBytes(16).toString('hex') : name === 'account_id' ? `acct-${randomBytes(4).toString('hex')}` : randomUUID(),
  );
}

const resourceInitial = /^\/v1\/(\w)/;

/** Ways to write a path that a lax router or a prefix check might take for the canonical one. */
const SPELLINGS: Array<[string, (path: string) => string]> = [
  ['canonical', (path) => path],
  ['upper-case version', (path) => path.replace(/^\/v1\//, '/V1/')],
  ['upper-case resource', (path) => path.replace(/^\/v1\/(\w+)/, (_, resource: string) => `/v1/${resource.toUpperCase()}`)],
  ['mixed-case resource', (path) => path.replace(resourceInitial, (_, initial: string) => `/v1/${initial.toUpperCase()}`)],
  ['whole path upper-case', (path) => path.toUpperCase()],
  ['doubled leading slash', (path) => `/${path}`],
  ['doubled slash after the version', (path) => path.replace(/^\/v1\//, '/v1//')],
  ['dot segment before the version', (path) => `/.${path}`],
  ['dot segment after the version', (path) => path.replace(/^\/v1\//, '/v1/./')],
  ['dot-dot segment', (path) => path.replace(/^\/v1\//, '/v1/x/../')],
  ['percent-encoded v', (path) => path.replace(/^\/v1\//, '/%761/')],
  ['percent-encoded V1', (path) => path.replace(/^\/v1\//, '/%56%31/')],
  ['percent-encoded 1', (path) => path.replace(/^\/v1\//, '/v%31/')],
  ['percent-encoded resource initial', (path) => path.replace(resourceInitial, (_, initial: string) => `/v1/%${initial.charCodeAt(0).toString(16)}`)],
  ['percent-encoded slash', (path) => path.replace(/^\/v1\//, '/v1%2F')],
  ['trailing slash', (path) => `${path}/`],
  ['trailing dot segment', (path) => `${path}/.`],
  ['trailing semicolon', (path) => `${path};`],
  ['with a query string', (path) => `${path}?limit=1`],
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const CONCURRENCY = 8;

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(run))));
  return results;
}

@Controller('internal')
class InternalController {
  @Get('unmarked')
  unmarked(): { reached: true } {
    return { reached: true };
  }

  @PublicRoute()
  @Get('open')
  open(): { reached: true } {
    return { reached: true };
  }
}

@PublicRoute()
@Controller('open')
class OpenController {
  @Get('anyone')
  anyone(): { reached: true } {
    return { reached: true };
  }

  @Authenticated()
  @Get('keyed')
  keyed(): { reached: true } {
    return { reached: true };
  }
}

/** The real guard in front of routes outside /v1 that no product controller has yet. */
@Module({})
class GuardProbeModule {
  static forKey(apiKey: string, databaseUrl: string): DynamicModule {
    return {
      module: GuardProbeModule,
      // The guard looks account keys up in the database; Temporal is never reached: the configuration just has to be complete.
      imports: [
        ConfigModule.forRoot(loadConfig({ API_KEYS: apiKey, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '127.0.0.1:1' }, { process: 'api' })),
        DatabaseModule.forRoot({ url: databaseUrl }),
        AccountAccessModule,
        PortalAccessModule,
      ],
      controllers: [InternalController, OpenController],
      providers: [FailedAuthLimiter, { provide: APP_GUARD, useClass: ApiKeyGuard }],
    };
  }
}

describe('the API key guard on routes of any path', () => {
  const apiKey = `probe_${randomBytes(16).toString('hex')}`;
  let database: TestDatabase;
  let nest: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    nest = await NestFactory.create(GuardProbeModule.forKey(apiKey, database.url), { logger: false });
    nest.useGlobalFilters(new HttpExceptionFilter());
    await nest.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await nest?.close();
    await database?.drop();
  });

  it('demands a key on a route no decorator marks, outside /v1 too', async () => {
    const refused = await send(baseUrl, { method: 'GET', path: '/internal/unmarked' });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect((await send(baseUrl, { method: 'GET', path: '/internal/unmarked', headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
  });

  it('opens only what @PublicRoute() marks, and @Authenticated() on a handler closes it within a public controller', async () => {
    expect((await send(baseUrl, { method: 'GET', path: '/internal/open' })).status).toBe(200);
    expect((await send(baseUrl, { method: 'GET', path: '/open/anyone' })).status).toBe(200);
    expect((await send(baseUrl, { method: 'GET', path: '/open/keyed' })).status).toBe(401);
  });
});

describe('authentication is deny by default', () => {
  const app = useTestApp();
  let privateRoutes: Route[];

  beforeAll(() => {
    privateRoutes = servedRoutes(app).filter((route) => !isPublic(route.path));
  });

  it('finds every documented route among the routes Express serves', async () => {
    const document = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, ':$1') })),
    );
    expect(documented.length).toBeGreaterThanOrEqual(12);
    expect(servedRoutes(app)).toEqual(expect.arrayContaining(documented));
  });

  it('answers 401 or 404, never 2xx or 5xx, to every route in every spelling and method without a key', async () => {
    const cases = privateRoutes.flatMap((route) =>
      SPELLINGS.flatMap(([spelling, spell]) =>
        METHODS.map((method) => {
          const path = spell(fillParams(route.path));
          // The route's own method on its own path must reach the guard; a GET route serves HEAD too.
          const ownMethod = method === route.method || (method === 'HEAD' && route.method === 'GET');
          return { route, spelling, method, path, expected: spelling === 'canonical' || spelling === 'with a query string' ? (ownMethod ? [401] : [401, 404]) : [401, 404] };
        }),
      ),
    );
    const answers = await inBatches(cases, CONCURRENCY, async (test) => ({
      test,
      answer: await send(app.baseUrl, { method: test.method, path: test.path, body: ['POST', 'PUT', 'PATCH'].includes(test.method) ? '{}' : undefined }),
    }));
    const wrong = answers
      .filter(({ test, answer }) => !test.expected.includes(answer.status))
      .map(({ test, answer }) => `${test.method} ${test.path} (${test.route.method} ${test.route.path}, ${test.spelling}): ${answer.status} ${answer.body.slice(0, 120)}`);

    expect(privateRoutes.length).toBeGreaterThanOrEqual(12);
    expect(answers.filter(({ answer }) => answer.status === 401).length).toBeGreaterThanOrEqual(privateRoutes.length);
    expect(wrong.slice(0, 20), `${wrong.length} of ${answers.length} answers`).toEqual([]);
  });

  it('accepts a valid key on the canonical spelling of a route', async () => {
    const answer = await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization: `Bearer ${app.apiKey}` } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toBeInstanceOf(Array);
  });

  it('routes case-sensitively and strictly: other spellings are 404 even with a valid key', async () => {
    const headers = { authorization: `Bearer ${app.apiKey}` };
    const id = app.accountId;
    for (const path of [
      `/V1/accounts/${id}/destinations`,
      `/v1/Accounts/${id}/destinations`,
      `/v1/accounts/${id}/Destinations`,
      `/v1/accounts/${id}/destinations/`,
      `//v1/accounts/${id}/destinations`,
      `/v1/accounts//${id}/destinations`,
      `/%761/accounts/${id}/destinations`,
      '/v1/accounts/',
    ]) {
      expect((await send(app.baseUrl, { method: 'GET', path, headers })).status, path).toBe(404);
    }
  });

  it("answers 404, never 2xx or 5xx, to every route in every spelling with another account's key (403 where every account key is refused alike)", async () => {
    const stranger = await createAccountKey(app, await createAccount(app));
    const cases = privateRoutes.flatMap((route) => SPELLINGS.map(([spelling, spell]) => ({ route, spelling, path: spell(fillParams(route.path).replace(/\/accounts\/[^/]+/, `/accounts/${app.accountId}`)) })));
    const answers = await inBatches(cases, CONCURRENCY, async (test) => ({
      test,
      answer: await send(app.baseUrl, { method: test.route.method, path: test.path, headers: bearer(stranger), body: ['POST', 'PUT', 'PATCH'].includes(test.route.method) ? '{}' : undefined }),
    }));
    // PUT /v1/accounts/:account_id and GET /v1/accounts are refused to every account key alike: 403, which says nothing of other accounts.
    const refusedToAll = (test: (typeof cases)[number]) => test.route.path === '/v1/accounts' || (test.route.method === 'PUT' && test.route.path === '/v1/accounts/:account_id');
    // A spelling that leaves a character outside the id rule in account_id (`acme;`) is refused for
    // the id alone, before any account is looked at, as it would be for any key.
    const malformedId = (answer: RawAnswer) => answer.status === 400 && answer.body.includes('account_id must be 1 to 64 characters');
    const wrong = answers
      .filter(({ test, answer }) => !(refusedToAll(test) ? [403, 404] : [404]).includes(answer.status) && !(test.spelling !== 'canonical' && malformedId(answer)))
      .map(({ test, answer }) => `${test.route.method} ${test.path} (${test.spelling}): ${answer.status} ${answer.body.slice(0, 120)}`);
    expect(wrong.slice(0, 20), `${wrong.length} of ${answers.length} answers`).toEqual([]);
  });

  it('answers the public routes without a key', async () => {
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/docs']) {
      expect((await send(app.baseUrl, { method: 'GET', path })).status, path).toBe(200);
    }
  });

  it('documents bearer authentication, 401 and 403 on every private route, 404 on every route under an account, and none of it on a public one', async () => {
    const document = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }>>;
    };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, path, operation })),
    );
    const documentedPrivate = operations.filter(({ operation }) => operation.security?.some((requirement) => 'bearer' in requirement)).map(({ route }) => route);
    expect(documentedPrivate.sort()).toEqual(privateRoutes.map((route) => `${route.method} ${route.path}`).sort());
    for (const { route, path, operation } of operations) {
      expect('401' in operation.responses, route).toBe(!isPublic(path));
      expect('403' in operation.responses, route).toBe(!isPublic(path));
      if (path.includes('{account_id}')) expect('404' in operation.responses, route).toBe(true);
    }
  });
});

describe('rate limits', () => {
  /** One key per test, so no test spends another's budget. */
  const keys = Array.from({ length: 8 }, (_, index) => `rate_${index}_${randomBytes(12).toString('hex')}`);
  let nextAddress = 10;
  /** A loopback address no other test in this block used, so its failure count starts at zero. */
  const freshAddress = () => `127.0.0.${nextAddress++}`;
  const LIMIT = 3;
  const app = useTestApp({ env: { API_KEYS: keys.join(','), RATE_LIMIT_PER_MINUTE: String(LIMIT), RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: String(LIMIT) } });

  it('counts every spelling of one key in one bucket: past the limit the next request is 429, whatever its spelling', async () => {
    const key = keys[0]!;
    const statuses: number[] = [];
    for (const authorization of [`Bearer ${key}`, `bearer ${key}`, `BEARER  ${key}`, `Bearer\t${key} `]) {
      statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('counts a key across every route: the limit is per key, not per key and route', async () => {
    const headers = { authorization: `Bearer ${keys[1]}` };
    const statuses: number[] = [];
    for (const path of [app.path('/destinations'), app.path('/deliveries'), app.path(`/destinations/${randomUUID()}`), app.path('/deliveries')]) {
      statuses.push((await send(app.baseUrl, { method: 'GET', path, headers })).status);
    }
    expect(statuses).toEqual([200, 200, 404, 429]);
  });

  it('answers 429 with Retry-After once a key exceeds its limit, without touching another key or /health', async () => {
    const limited = keys[2]!;
    for (let i = 0; i < LIMIT; i++) expect((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization: `Bearer ${limited}` } })).status).toBe(200);
    const refused = await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization: `Bearer ${limited}` } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization: `Bearer ${keys[3]}` } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send(app.baseUrl, { method: 'GET', path: '/health' })).status).toBe(200);
  });

  it('cuts an address off with 429 and Retry-After after the limit of requests without a valid key', async () => {
    const localAddress = freshAddress();
    const statuses: number[] = [];
    for (const headers of [{}, { authorization: 'Bearer wrong-key-0000000000' }, { authorization: `Bearer ${keys[4]}x` }, { authorization: 'Basic dXNlcjpwYXNz' }] as Array<Record<string, string>>) {
      statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers, localAddress })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await send(app.baseUrl, { method: 'POST', path: app.path('/events'), body: '{}', localAddress });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses a cut-off address even with a valid key, so the answer never confirms a guess', async () => {
    const localAddress = freshAddress();
    const headers = { authorization: `Bearer ${keys[5]}` };
    for (let i = 0; i < LIMIT; i++) expect((await send(app.baseUrl, { method: 'GET', path: app.path('/deliveries'), localAddress })).status).toBe(401);
    expect((await send(app.baseUrl, { method: 'GET', path: app.path('/deliveries'), headers, localAddress })).status).toBe(429);
    expect((await send(app.baseUrl, { method: 'GET', path: app.path('/deliveries'), headers, localAddress: freshAddress() })).status).toBe(200);
  });

  it('does not count requests with a valid key against their address', async () => {
    const localAddress = freshAddress();
    const key = keys[6]!;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT - 1; i++) statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { authorization: `Bearer ${key}` }, localAddress })).status);
    for (let i = 0; i < LIMIT; i++) statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), localAddress })).status);
    statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), localAddress })).status);
    expect(statuses).toEqual([200, 200, 401, 401, 401, 429]);
  });

  it('counts unknown xtk_ account keys as failures of their address', async () => {
    const localAddress = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      const unknownKey = `xtk_${randomBytes(32).toString('base64url')}`;
      statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: bearer(unknownKey), localAddress })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("does not count a valid account key against its address, not even when access control refuses it", async () => {
    // Set up with a service key of its own: this block's limit is 3 requests per key.
    const setup = bearer(keys[7]!);
    const accountId = `rate-${randomBytes(4).toString('hex')}`;
    const account = await send(app.baseUrl, { method: 'PUT', path: `/v1/accounts/${accountId}`, headers: setup, body: JSON.stringify({ name: 'unlimited', rate_limit_per_minute: 0 }) });
    expect(account.status, account.body).toBe(201);
    const created = await send(app.baseUrl, { method: 'POST', path: `/v1/accounts/${accountId}/api-keys`, headers: setup, body: JSON.stringify({ name: 'k' }) });
    expect(created.status, created.body).toBe(201);
    const accountKey = bearer(JSON.parse(created.body).key);
    const localAddress = freshAddress();
    const statuses: number[] = [];
    // Another account's path: a 404 from access control, after authentication succeeded.
    for (let i = 0; i <= LIMIT; i++) statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: accountKey, localAddress })).status);
    for (let i = 0; i <= LIMIT; i++) statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), localAddress })).status);
    expect(statuses).toEqual([404, 404, 404, 404, 401, 401, 401, 429]);
  });

  it('never limits the public routes, not even for a cut-off address', async () => {
    const localAddress = freshAddress();
    for (let i = 0; i <= LIMIT; i++) await send(app.baseUrl, { method: 'POST', path: app.path('/clicks'), body: '{"uid":"u"}', localAddress });
    expect((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), localAddress })).status).toBe(429);
    for (let i = 0; i < 2 * LIMIT; i++) {
      for (const path of ['/health', '/ready', '/metrics']) expect((await send(app.baseUrl, { method: 'GET', path, localAddress })).status, path).toBe(200);
    }
  });
});

describe('the client address behind a proxy', () => {
  const LIMIT = 2;
  const failures = async (app: TestApp, forwardedFor: string) => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      statuses.push((await send(app.baseUrl, { method: 'GET', path: app.path('/destinations'), headers: { 'x-forwarded-for': forwardedFor }, localAddress: '127.0.0.200' })).status);
    }
    return statuses;
  };

  describe('without TRUST_PROXY', () => {
    const app = useTestApp({ env: { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: String(LIMIT) } });

    it('ignores X-Forwarded-For unless TRUST_PROXY says so: a guesser cannot buy a fresh budget per request', async () => {
      expect(await failures(app, '203.0.113.1')).toEqual([401, 401, 429]);
      expect(await failures(app, '203.0.113.2')).toEqual([429, 429, 429]);
    });
  });

  describe('with TRUST_PROXY=loopback', () => {
    const app = useTestApp({ env: { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'loopback' } });

    it('counts each client named by a trusted proxy on its own', async () => {
      expect(await failures(app, '203.0.113.1')).toEqual([401, 401, 429]);
      expect(await failures(app, '203.0.113.2')).toEqual([401, 401, 429]);
    });
  });
});
