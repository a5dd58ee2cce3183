import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createHttpApp } from '../../src/http-app.js';
import type { HostResolver } from '../../src/url-policy/destination-url-policy.js';
import { createTestDatabase } from './test-database.js';

export interface TestApp {
  nest: INestApplication;
  baseUrl: string;
  apiKey: string;
  config: AppConfig;
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

/**
 * The real service (API + worker in one process, as `npm run dev` runs it) against the suite's
 * PostgreSQL and Temporal server, on its own task queue so test files never share workers.
 */
export async function startTestApp(env: Record<string, string> = {}, hostResolver?: HostResolver): Promise<TestApp> {
  const apiKey = `test_${randomBytes(16).toString('hex')}`;
  const database = await createTestDatabase();
  const config = loadConfig(
    {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
      API_KEYS: apiKey,
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      RETRY_INITIAL_INTERVAL_MS: '200',
      RETRY_MAX_INTERVAL_MS: '1000',
      DELIVERY_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0',
      // Tests retry quickly; production refuses retry intervals under one second.
      RETRY_MIN_INTERVAL_MS: '100',
      ...env,
    },
    { process: 'api' },
  );
  const app: INestApplication = await createHttpApp({ config, roles: { api: true, worker: true }, hostResolver });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });

  return {
    nest: app,
    baseUrl,
    apiKey,
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
