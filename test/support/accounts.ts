import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../../src/http-app.js';
import type { ApiResponse, TestApp } from './test-app.js';

/** Another API process of the same deployment: the same configuration, database and keys, its own memory. */
export interface SecondApi {
  /** Like TestApp.request: the service key unless `headers` give another authorization. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  close(): Promise<void>;
}

/**
 * Starts a second API (without a worker) on the test app's configuration, as a second replica
 * behind a load balancer would run: whatever one process keeps in memory, this one does not share.
 */
export async function startSecondApi(app: TestApp): Promise<SecondApi> {
  const nest: INestApplication = await createHttpApp({ config: app.config, roles: { api: true, worker: false } });
  await nest.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}`;
  return {
    async request(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${app.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
    },
    close: () => nest.close(),
  };
}

/** The Authorization header of a key. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
