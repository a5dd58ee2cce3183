import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config/app-config.js';

/**
 * The API's Temporal client. The connection is lazy: the API boots (and /ready reports
 * Temporal as down) while the cluster is unreachable, instead of refusing to start.
 */
export function createTemporalClient(config: AppConfig): Client {
  const address = config.temporal.address;
  if (address === undefined) throw new Error('TEMPORAL_ADDRESS was not resolved before the client was created');
  const connection = Connection.lazy({ address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
