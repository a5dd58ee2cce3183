import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { afterAll, beforeAll, inject } from 'vitest';
import { findFreePort } from '../../src/common/free-port.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createHttpApp } from '../../src/http-app.js';
import type { HostResolver } from '../../src/url-policy/destination-url-policy.js';
import { createTestDatabase } from './test-database.js';

export interface TestApp {
  nest: INestApplication;
  baseUrl: string;
  /** A service key (API_KEYS): every route, every account. */
  apiKey: string;
  /** The account this app's tests work in, created at start; no other test app's rows or workflows carry it. */
  accountId: string;
  /** A tenant path of the app's account: `path('/destinations')` is `/v1/accounts/<accountId>/destinations`. */
  path(suffix: string): string;
  config: AppConfig;
  /** A client of the suite's Temporal server, in the app's namespace (not the app's own client). */
  temporal: Client;
  dataSource: DataSource;
  /** Authenticated JSON request against the API; returns status and parsed body. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

export interface TestAppOptions {
  /** Environment variables over the test defaults below (API_KEYS, retry intervals, rate limits…). */
  env?: Record<string, string>;
  /** Resolves destination host names in place of DNS, for SSRF tests. */
  hostResolver?: HostResolver;
  /**
   * `suite` (the default): the suite's real Temporal server. `unreachable`: TEMPORAL_ADDRESS is a
   * loopback port nothing listens on, for outage tests; the API still boots (its connection is
   * lazy), and runs without the worker, which cannot start without Temporal.
   */
  temporal?: 'suite' | 'unreachable';
  /** Run the delivery worker in the app's process, as `npm run dev` does. Default: true with the suite's Temporal. */
  worker?: boolean;
}

const TEST_APP_OPTIONS = new Set(['env', 'hostResolver', 'temporal', 'worker']);

/**
 * One app for the tests of the enclosing `describe` (or of the file, at top level): started in
 * `beforeAll` on a database of its own, closed in `afterAll`. The handle forwards to the running
 * app, so it can be used in tests and hooks (a `beforeAll` registered after this call already sees
 * it), but not while tests are being collected.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let running: TestApp | undefined;
  beforeAll(async () => {
    running = await startTestApp(options);
  });
  afterAll(async () => {
    const app = running;
    running = undefined;
    await app?.close();
  });
  return new Proxy({} as TestApp, {
    get(_, property) {
      if (!running) throw new Error(`the test app is not running: use it inside tests and hooks (read "${String(property)}")`);
      const value: unknown = Reflect.get(running, property);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}

/**
 * The real service (API and worker in one process, as `npm run dev` runs it, unless told otherwise)
 * against the suite's PostgreSQL and Temporal server, on its own task queue so test files never
 * share workers. Tests use `useTestApp()`, which starts and closes one of these around them.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  // Environment variables passed here instead of in `env` would otherwise be dropped unseen.
  const unknown = Object.keys(options).filter((key) => !TEST_APP_OPTIONS.has(key));
  if (unknown.length > 0) throw new Error(`unknown test app options ${unknown.join(', ')}: environment variables go in { env }`);
  const { env = {}, hostResolver, temporal: temporalServer = 'suite', worker = temporalServer === 'suite' } = options;
  if (temporalServer === 'unreachable' && worker) throw new Error('a worker cannot start without Temporal: pass worker: false');
  const apiKey = `test_${randomBytes(16).toString('hex')}`;
  const database = await createTestDatabase();
  const config = loadConfig(
    {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: temporalServer === 'suite' ? inject('temporalAddress') : `127.0.0.1:${await findFreePort()}`,
      TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      RETRY_INITIAL_INTERVAL_MS: '200',
      RETRY_MAX_INTERVAL_MS: '1000',
      DELIVERY_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0',
      // Tests retry quickly; production refuses retry intervals under one second.
      RETRY_MIN_INTERVAL_MS: '100',
      ...env,
      // The fixture's own key stays configured beside any a test sets, so it can always create the
      // test account; it has a rate-limit bucket of its own, so it spends none of theirs.
      API_KEYS: env.API_KEYS ? `${apiKey},${env.API_KEYS}` : apiKey,
    },
    { process: 'api' },
  );
  const app: INestApplication = await createHttpApp({ config, roles: { api: true, worker }, hostResolver });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  // Unique across the suite: test files share one Temporal server, where AccountId finds workflows.
  const accountId = `test-${randomBytes(6).toString('hex')}`;

  const testApp: TestApp = {
    nest: app,
    baseUrl,
    apiKey,
    accountId,
    path: (suffix) => `/v1/accounts/${accountId}${suffix}`,
    config,
    temporal,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    async request(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
    },
    async close() {
      await connection.close();
      await app.close();
      await database.drop();
    },
  };
  // Through the API, as a customer's backend would create its account.
  const created = await testApp.request('PUT', `/v1/accounts/${accountId}`, { name: 'test account', enabled: true });
  if (created.status !== 201) {
    await testApp.close();
    throw new Error(`creating the test account answered ${created.status}: ${JSON.stringify(created.body)}`);
  }
  return testApp;
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
