import { describe, expect, it } from 'vitest';
import { Receiver } from './support/receiver.js';
import { admin as adminQuery } from './support/test-database.js';
import { createDestination, deliveryReaches, uniqueId } from './support/fixtures.js';
import { eventually, useTestApp } from './support/test-app.js';

describe('health and readiness', () => {
  const app = useTestApp();

  const admin = (statement: string) => adminQuery(new URL(app.config.databaseUrl!), statement);

  it('answers /health without authentication', async () => {
    const response = await fetch(`${app.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready 200 when the database and Temporal are reachable', async () => {
    const response = await fetch(`${app.baseUrl}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', details: { database: { status: 'up' }, temporal: { status: 'up' } } });
  });

  it('turns /ready 503 naming the database and nothing more while it is unreachable, and 200 again when it returns', async () => {
    const name = new URL(app.config.databaseUrl!).pathname.slice(1);
    await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    try {
      const down = await eventually(async () => {
        const response = await fetch(`${app.baseUrl}/ready`);
        return response.status === 503 ? await response.text() : undefined;
      });
      // Whatever the driver said ("terminating connection due to administrator command", or a message naming the database) stays in the log.
      expect(JSON.parse(down)).toEqual({ statusCode: 503, message: 'not ready: database is down', details: { database: { status: 'down' }, temporal: { status: 'up' } } });
      expect(down).not.toContain(name);
    } finally {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    await eventually(async () => ((await fetch(`${app.baseUrl}/ready`)).status === 200 ? true : undefined));
  });

  it('serves the OpenAPI document and Swagger UI without authentication', async () => {
    const document = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as any;
    const tenantPaths = [
      '/destinations',
      '/destinations/{id}',
      '/destinations/{id}/rotate-secret',
      '/clicks',
      '/events',
      '/deliveries',
      '/deliveries/{event_id}',
      '/deliveries/{event_id}/cancel',
      '/deliveries/{event_id}/retry',
    ].map((path) => `/v1/accounts/{account_id}${path}`);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(tenantPaths));
    expect((await fetch(`${app.baseUrl}/docs`)).status).toBe(200);
  });

  it('documents the account_id path parameter exactly once on every route under an account, and keeps no flat route', async () => {
    const document = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as any;
    const tenantOperations = Object.entries(document.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>)
      .filter(([path]) => path.startsWith('/v1/accounts/{account_id}'))
      .flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })));

    // Destinations, clicks, events, deliveries, the account itself and its keys.
    expect(tenantOperations.length).toBeGreaterThanOrEqual(18);
    for (const { route, operation } of tenantOperations) {
      expect(operation.parameters?.filter((parameter) => parameter.name === 'account_id' && parameter.in === 'path'), route).toHaveLength(1);
    }
    expect(Object.keys(document.paths).filter((path) => /^\/v1\/(destinations|clicks|events|deliveries)/.test(path))).toEqual([]);
  });

  it('counts a sent and a failed delivery, their attempts and ingest latency in /metrics', async () => {
    const metricValue = async (pattern: RegExp): Promise<number> => {
      const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
      return Number(pattern.exec(text)?.[1] ?? 0);
    };
    const sentBefore = await metricValue(/^xtracker_webhook_deliveries_total\{outcome="sent"\} (\d+)/m);
    const failedBefore = await metricValue(/^xtracker_webhook_deliveries_total\{outcome="failed"\} (\d+)/m);
    const fourxxBefore = await metricValue(/^xtracker_webhook_attempts_total\{status_class="4xx"\} (\d+)/m);

    const receiver = (await Receiver.start()).replyWith(200, 404);
    const destination = await createDestination(app, { url: `${receiver.url}/m`, event_map: { contact: 'Contact' } });
    for (const expected of ['sent', 'failed']) {
      const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid: 'u-metrics' });
      await deliveryReaches(app, response.body.deliveries[0].event_id, [expected]);
    }
    await app.request('DELETE', app.path(`/destinations/${destination.id}`));
    await receiver.close();

    expect(await metricValue(/^xtracker_webhook_deliveries_total\{outcome="sent"\} (\d+)/m)).toBe(sentBefore + 1);
    expect(await metricValue(/^xtracker_webhook_deliveries_total\{outcome="failed"\} (\d+)/m)).toBe(failedBefore + 1);
    expect(await metricValue(/^xtracker_webhook_attempts_total\{status_class="4xx"\} (\d+)/m)).toBe(fourxxBefore + 1);
    expect(await metricValue(/^xtracker_ingest_request_duration_seconds_count\{status_code="202"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(text).toContain('xtracker_webhook_attempt_duration_seconds_bucket');
    expect(text).toMatch(/^temporal_/m);
  });
});

describe('readiness while Temporal is unreachable', () => {
  // Nothing listens at the app's Temporal address: its connection is lazy, so the API boots and reports Temporal down.
  const app = useTestApp({ temporal: 'unreachable' });

  it('turns /ready 503 naming Temporal and nothing more: no gRPC error text, no address', async () => {
    const response = await fetch(`${app.baseUrl}/ready`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({ statusCode: 503, message: 'not ready: temporal is down', details: { database: { status: 'up' }, temporal: { status: 'down' } } });
    expect(text).not.toContain(app.config.temporal.address!.split(':')[1]);
  });
});
