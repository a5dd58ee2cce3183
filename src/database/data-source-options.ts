import type { DataSourceOptions } from 'typeorm';
import { DeliveryAttempt } from '../deliveries/delivery-attempt.entity.js';
import { Delivery } from '../deliveries/delivery.entity.js';
import { Destination } from '../destinations/destination.entity.js';
import { ParameterFreeQueryLogger } from './query-logger.js';
import { InitialSchema1764230400000 } from './migrations/1764230400000-initial-schema.js';
import { SigningSecretRotation1764316800000 } from './migrations/1764316800000-signing-secret-rotation.js';
import { DeletedDestinationsHoldNoSecrets1764417600000 } from './migrations/1764417600000-deleted-destinations-hold-no-secrets.js';
import { NextAttemptTimeFromTemporal1764504000000 } from './migrations/1764504000000-next-attempt-time-from-temporal.js';
import { Accounts1764590400000 } from './migrations/1764590400000-accounts.js';
import { DestinationTraffic1764676800000 } from './migrations/1764676800000-destination-traffic.js';
import { PostbacksAndRouting1764684000000 } from './migrations/1764684000000-postbacks-and-routing.js';
import { OperationalWebhooks1764680400000 } from './migrations/1764680400000-operational-webhooks.js';
import { Recoveries1764687600000 } from './migrations/1764687600000-recoveries.js';
import { Portal1764694800000 } from './migrations/1764694800000-portal.js';
import { DeliveryOutbox1764698400000 } from './migrations/1764698400000-delivery-outbox.js';
import { TrafficGateFunctions1764703800000 } from './migrations/1764703800000-traffic-gate-functions.js';
import { TrafficReleaseOfARefusal1764707400000 } from './migrations/1764707400000-traffic-release-of-a-refusal.js';

export const ENTITIES = [Destination, Delivery, DeliveryAttempt];
export const MIGRATIONS = [InitialSchema1764230400000, SigningSecretRotation1764316800000, DeletedDestinationsHoldNoSecrets1764417600000, NextAttemptTimeFromTemporal1764504000000, Accounts1764590400000, DestinationTraffic1764676800000, OperationalWebhooks1764680400000, PostbacksAndRouting1764684000000, Recoveries1764687600000, Portal1764694800000, DeliveryOutbox1764698400000, TrafficGateFunctions1764703800000, TrafficReleaseOfARefusal1764707400000];

export interface DatabaseConnectionOptions {
  url: string;
  /** Pool size; the embedded PGlite socket accepts a single connection. */
  poolSize?: number;
}

export function dataSourceOptions({ url, poolSize = 10 }: DatabaseConnectionOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn', 'migration'],
    logger: new ParameterFreeQueryLogger(),
    extra: { max: poolSize, connectionTimeoutMillis: 5_000 },
  };
}
