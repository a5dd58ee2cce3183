import { Metadata, status, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import { Client, Connection, ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../common/free-port.js';
import { describeTemporalError, isTemporalUnavailableError } from './temporal-errors.js';

/** A Temporal call's rejection, or a failure of the test when the call succeeds. */
async function rejectionOf(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => expect.fail('expected the Temporal call to fail'),
    (error: unknown) => error,
  );
}

/**
 * A gRPC status error built the way grpc-js builds one (`callErrorFromStatus`), wrapped the way
 * the SDK wraps a failed start (`rethrowGrpcError`): for the statuses only a live server returns.
 */
function startRefused(code: status, details: string): ServiceError {
  const grpcError: GrpcServiceError = Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
  return new ServiceError('Failed to start Workflow', { cause: grpcError });
}

describe('isTemporalUnavailableError on what a real client throws', () => {
  let closedAddress: string;
  let silentServer: Server;
  let silentAddress: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    closedAddress = `127.0.0.1:${await findFreePort()}`;
    // A peer that accepts TCP and never speaks gRPC: a frontend hung mid-restart.
    silentServer = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    silentAddress = `127.0.0.1:${(silentServer.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silentServer.close(resolve));
  });

  /** As the API builds its client, minus the SDK's retries, which would only make the test wait. */
  function lazyClient(address: string): Client {
    return new Client({ connection: Connection.lazy({ address, interceptors: [] }) });
  }

  it('is true for a start against a port with nothing listening (UNAVAILABLE)', async () => {
    const error = await rejectionOf(() => lazyClient(closedAddress).workflow.start('deliveryWorkflow', { workflowId: 'w', taskQueue: 'q', args: [] }));

    expect(error).toBeInstanceOf(ServiceError);
    expect(isTemporalUnavailableError(error)).toBe(true);
    expect(describeTemporalError(error)).toMatch(/^Failed to start Workflow: 14 UNAVAILABLE: /);
  });

  it('is true for a cancel against a port with nothing listening (UNAVAILABLE)', async () => {
    const error = await rejectionOf(() => lazyClient(closedAddress).workflow.getHandle('w').cancel());

    expect(isTemporalUnavailableError(error)).toBe(true);
    expect(describeTemporalError(error)).toMatch(/^Failed to cancel workflow: 14 UNAVAILABLE: /);
  });

  it('is true for a start that found no answer before its deadline (DEADLINE_EXCEEDED)', async () => {
    const client = lazyClient(silentAddress);
    const error = await rejectionOf(() =>
      client.connection.withDeadline(Date.now() + 200, () => client.workflow.start('deliveryWorkflow', { workflowId: 'w', taskQueue: 'q', args: [] })),
    );

    expect(isTemporalUnavailableError(error)).toBe(true);
    expect(describeTemporalError(error)).toMatch(/^Failed to start Workflow: 4 DEADLINE_EXCEEDED: /);
  });

  it('is true for Connection.connect with nothing listening, whose error has no code', async () => {
    const error = await rejectionOf(() => Connection.connect({ address: closedAddress, connectTimeout: 200 }));

    expect((error as { code?: unknown }).code).toBeUndefined();
    expect(isTemporalUnavailableError(error)).toBe(true);
  });

  it('is true for a frontend shedding load (RESOURCE_EXHAUSTED)', () => {
    expect(isTemporalUnavailableError(startRefused(status.RESOURCE_EXHAUSTED, 'namespace rate limit exceeded'))).toBe(true);
  });
});

describe('isTemporalUnavailableError on what Temporal refuses', () => {
  it('is false for a start with an unregistered search attribute (INVALID_ARGUMENT), and describes its status', () => {
    const error = startRefused(status.INVALID_ARGUMENT, 'Namespace default has no mapping defined for search attribute DestinationId');

    expect(isTemporalUnavailableError(error)).toBe(false);
    expect(describeTemporalError(error)).toBe(
      'Failed to start Workflow: 3 INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute DestinationId',
    );
  });

  it('is false for the SDK errors callers handle themselves', () => {
    expect(isTemporalUnavailableError(new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'w', 'deliveryWorkflow'))).toBe(false);
    expect(isTemporalUnavailableError(new WorkflowNotFoundError('Workflow not found', 'w', undefined))).toBe(false);
  });

  it('is false for errors that did not come from Temporal, which describeTemporalError leaves undefined', () => {
    const databaseDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

    expect(isTemporalUnavailableError(databaseDown)).toBe(false);
    expect(isTemporalUnavailableError(new TypeError('Cannot read properties of undefined'))).toBe(false);
    expect(isTemporalUnavailableError('14 UNAVAILABLE')).toBe(false);
    expect(describeTemporalError(databaseDown)).toBeUndefined();
  });
});
