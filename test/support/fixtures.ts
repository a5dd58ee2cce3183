import { expect } from 'vitest';
import { eventually, type TestApp } from './test-app.js';

let counter = 0;

/** A unique idempotency key per call, so test files sharing a database never collide. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

export async function createDestination(app: TestApp, fields: Record<string, unknown>): Promise<{ id: string; signing_secret: string }> {
  const response = await app.request('POST', '/v1/destinations', { name: 'test destination', ...fields });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

export async function getDelivery(app: TestApp, eventId: string): Promise<any> {
  const response = await app.request('GET', `/v1/deliveries/${eventId}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Waits until the delivery reaches one of the given statuses and returns it. */
export function deliveryReaches(app: TestApp, eventId: string, statuses: string[], timeoutMs = 30_000): Promise<any> {
  return eventually(
    async () => {
      const delivery = await getDelivery(app, eventId);
      return statuses.includes(delivery.status) ? delivery : undefined;
    },
    timeoutMs,
    `delivery ${eventId} to reach ${statuses.join('/')}`,
  );
}
