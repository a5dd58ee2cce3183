import { NativeConnection } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ensureDeliverySearchAttributes } from '../src/temporal/search-attribute-registration.js';

describe('search attribute registration at worker start', () => {
  let connection: NativeConnection;
  const namespace = `sa-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    // A namespace of its own: the suite's server already has the attributes on "default".
    // protobufjs takes a plain number where the generated typings ask for a Long.
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: 86_400 as never } });
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('registers the five delivery attributes on a namespace that lacks them, then finds nothing left to do', async () => {
    const first = await ensureDeliverySearchAttributes(connection, namespace);
    const second = await ensureDeliverySearchAttributes(connection, namespace);

    expect(first.sort()).toEqual(['AccountId', 'CanonicalEvent', 'DeliveryStatus', 'DestinationId', 'TargetEvent']);
    expect(second).toEqual([]);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(first));
  });
});
