import { Agent, type Dispatcher } from 'undici';
import type { Cidr } from '../url-policy/cidr.js';
import type { HostResolver } from '../url-policy/destination-url-policy.js';
import { createGuardedConnector } from '../url-policy/guarded-lookup.js';

export interface WebhookDispatcherOptions {
  allowedCidrs: Cidr[];
  resolver?: HostResolver;
}

/**
 * One keep-alive connection pool per origin for the whole worker, with every connection
 * checked against the SSRF rules at connect time (the address actually dialled is the one checked).
 */
export function createWebhookDispatcher({ allowedCidrs, resolver }: WebhookDispatcherOptions): Dispatcher {
  return new Agent({
    connect: createGuardedConnector(allowedCidrs, resolver),
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
  });
}
