import { Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect, vi } from 'vitest';
import { eventually, type TestApp } from './test-app.js';

let counter = 0;

/** A unique idempotency key per call, so test files sharing a database never collide. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

/** Which account a fixture acts in: the app's own unless another is named. */
export interface InAccount {
  accountId?: string;
}

function tenantPath(app: TestApp, accountId: string | undefined, suffix: string): string {
  return accountId === undefined ? app.path(suffix) : `/v1/accounts/${accountId}${suffix}`;
}

/**
 * The app as seen from a new account of its own: `path()` and `accountId` name it, so only the
 * calling test's destinations receive its events.
 */
export async function inFreshAccount(app: TestApp): Promise<TestApp> {
  const accountId = uniqueId('acct').slice(0, 64);
  const created = await app.request('PUT', `/v1/accounts/${accountId}`, { name: accountId });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return new Proxy(app, {
    get(target, property) {
      if (property === 'accountId') return accountId;
      if (property === 'path') return (suffix: string) => `/v1/accounts/${accountId}${suffix}`;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `count` contact events of `uid` (C at a time), each fanning out to every destination of the app's account; their event_ids. */
export async function ingestContacts(app: TestApp, count: number, uid: string, concurrency = 16): Promise<string[]> {
  const eventIds: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const response = await app.request('POST', app.path('/events'), { id: uniqueId('evt'), canonical: 'contact', uid });
        expect(response.status, JSON.stringify(response.body)).toBe(202);
        eventIds.push(...response.body.deliveries.map((delivery: { event_id: string }) => delivery.event_id));
      }
    }),
  );
  return eventIds;
}

/** Creates another account in the app (with the service key) and returns its id. */
export async function createAccount(app: TestApp, fields: Record<string, unknown> = {}): Promise<string> {
  const accountId = uniqueId(app.accountId);
  const response = await app.request('PUT', `/v1/accounts/${accountId}`, { name: `account ${accountId}`, enabled: true, ...fields });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return accountId;
}

/** An account key of the account, with the scopes given (all by default); the key is shown only here. */
export async function createAccountKey(app: TestApp, accountId: string, scopes = ['ingest', 'read', 'manage']): Promise<string> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/api-keys`, { name: 'test key', scopes });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.key;
}

export async function createDestination(
  app: TestApp,
  fields: Record<string, unknown>,
  { accountId }: InAccount = {},
): Promise<{ id: string; signing_secret: string }> {
  const response = await app.request('POST', tenantPath(app, accountId, '/destinations'), { name: 'test destination', ...fields });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

export async function getDelivery(app: TestApp, eventId: string, { accountId }: InAccount = {}): Promise<any> {
  const response = await app.request('GET', tenantPath(app, accountId, `/deliveries/${eventId}`));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Waits until the delivery reaches one of the given statuses and returns it. */
export function deliveryReaches(app: TestApp, eventId: string, statuses: string[], timeoutMs = 30_000, inAccount: InAccount = {}): Promise<any> {
  return eventually(
    async () => {
      const delivery = await getDelivery(app, eventId, inAccount);
      return statuses.includes(delivery.status) ? delivery : undefined;
    },
    timeoutMs,
    `delivery ${eventId} to reach ${statuses.join('/')}`,
  );
}

/** One workflow start the app asked of Temporal. */
export interface WorkflowStart {
  workflowId: string;
  /** The run Temporal started, or undefined when it refused the start (and the app handled that). */
  runId: string | undefined;
}

/**
 * Runs `action` and returns, with its result, every workflow start the app asked of the real
 * Temporal meanwhile. The calls go through unchanged: this is for tests of what our code starts,
 * where Temporal's own refusal of a duplicate would hide a start that should never have been asked.
 */
export async function workflowStartsDuring<T>(app: TestApp, action: () => Promise<T>): Promise<{ result: T; starts: WorkflowStart[] }> {
  const start = vi.spyOn(app.nest.get(Client).workflow, 'start');
  try {
    const result = await action();
    const starts = await Promise.all(
      start.mock.calls.map(async ([, options], index) => ({
        workflowId: options.workflowId,
        runId: await start.mock.results[index]!.value.then(
          (handle: WorkflowHandleWithFirstExecutionRunId) => handle.firstExecutionRunId,
          () => undefined,
        ),
      })),
    );
    return { result, starts };
  } finally {
    start.mockRestore();
  }
}
