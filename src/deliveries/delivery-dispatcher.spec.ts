import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config.js';
import { DeliveryDispatcher, MAX_CONCURRENT_WORKFLOW_STARTS, type DeliveryDispatch } from './delivery-dispatcher.js';

/**
 * A slow Temporal frontend: every start takes a while, and the client counts how many are pending
 * at once. This is the misbehaving peer a real server cannot be made into on demand.
 */
function slowTemporal({ startMs = 5, failWorkflowIds = new Set<string>() } = {}) {
  const stats = { inFlight: 0, maxInFlight: 0, started: [] as string[], deadlines: [] as number[] };
  const client = {
    connection: {
      withDeadline: (deadline: number, call: () => Promise<unknown>) => {
        stats.deadlines.push(deadline);
        return call();
      },
    },
    workflow: {
      start: async (_workflow: string, options: { workflowId: string }) => {
        stats.inFlight += 1;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        await new Promise((resolve) => setTimeout(resolve, startMs));
        stats.inFlight -= 1;
        // Shaped as grpc-js shapes a status error: as the dispatcher sees an outage.
        if (failWorkflowIds.has(options.workflowId)) throw Object.assign(new Error('14 UNAVAILABLE: frontend overloaded'), { code: 14, details: 'frontend overloaded', metadata: {} });
        stats.started.push(options.workflowId);
      },
    },
  };
  return { client: client as unknown as Client, stats };
}

const config = { temporal: { taskQueue: 'deliveries-test' } } as AppConfig;

function dispatches(count: number): DeliveryDispatch[] {
  return Array.from({ length: count }, (_, index) => {
    const eventId = index.toString(16).padStart(32, '0');
    return {
      eventId,
      accountId: 'acct-test',
      workflowId: `delivery-${eventId}`,
      destinationId: `destination-${index}`,
      destinationName: `destination ${index}`,
      canonical: 'contact',
      targetEvent: 'Lead',
      attemptTimeoutMs: 5000,
      retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 100, maxAgeMs: 86_400_000 },
    };
  });
}

describe('DeliveryDispatcher.startAll', () => {
  it(`keeps at most ${MAX_CONCURRENT_WORKFLOW_STARTS} workflow starts in flight, and starts every delivery`, async () => {
    const { client, stats } = slowTemporal();
    const batch = dispatches(3 * MAX_CONCURRENT_WORKFLOW_STARTS + 5);

    const outcome = await new DeliveryDispatcher(client, config).startAll(batch);

    expect(stats.maxInFlight).toBe(MAX_CONCURRENT_WORKFLOW_STARTS);
    expect(stats.started.sort()).toEqual(batch.map((d) => d.workflowId).sort());
    expect(outcome.started.sort()).toEqual(batch.map((d) => d.eventId).sort());
    expect(outcome.failed).toEqual([]);
  });

  it('starts the rest after a start fails, and reports which failed with the error', async () => {
    const batch = dispatches(2 * MAX_CONCURRENT_WORKFLOW_STARTS);
    const failing = batch[3]!;
    const { client, stats } = slowTemporal({ failWorkflowIds: new Set([failing.workflowId]) });

    const outcome = await new DeliveryDispatcher(client, config).startAll(batch);

    expect(stats.started).toHaveLength(batch.length - 1);
    expect(outcome.started.sort()).toEqual(batch.filter((d) => d !== failing).map((d) => d.eventId).sort());
    expect(outcome.failed).toHaveLength(1);
    expect(outcome.failed[0]!.eventId).toBe(failing.eventId);
    expect(String(outcome.failed[0]!.error)).toContain('UNAVAILABLE');
  });

  it('holds every start of one batch to the same deadline, so a queued start does not extend the wait', async () => {
    const { client, stats } = slowTemporal({ startMs: 20 });

    await new DeliveryDispatcher(client, config).startAll(dispatches(2 * MAX_CONCURRENT_WORKFLOW_STARTS + 1));

    expect(stats.deadlines).toHaveLength(2 * MAX_CONCURRENT_WORKFLOW_STARTS + 1);
    expect(new Set(stats.deadlines).size).toBe(1);
  });
});
