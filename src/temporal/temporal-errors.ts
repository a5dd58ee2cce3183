import { isGrpcServiceError } from '@temporalio/client';

/** What a client should wait before repeating a request that found Temporal unavailable. */
export const TEMPORAL_RETRY_AFTER_SECONDS = 5;

/**
 * gRPC status codes (grpc/doc/statuscodes.md) that say nothing about the request itself: the
 * frontend is down or unreachable (UNAVAILABLE, what a lazy connection's call ends with once the
 * SDK's retries give up), did not answer before the deadline (DEADLINE_EXCEEDED, what a call under
 * `withDeadline` ends with against a stopped server), or shed load (RESOURCE_EXHAUSTED: rate and
 * concurrency limits, a busy workflow). Numbers, because @grpc/grpc-js, whose `status` enum names
 * them, is not a production dependency.
 */
const UNAVAILABLE_GRPC_CODES = new Set([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
]);

/**
 * What grpc-js's `waitForReady` rejects with when no connection came up before the deadline: the
 * error `Connection.connect` (and `ensureConnected`) throws when nothing listens at the address. It
 * has no code, only this message.
 */
const CONNECT_TIMEOUT_MESSAGE = 'Failed to connect before the deadline';

/** How far down `cause` to look: the SDK wraps a gRPC error once (ServiceError), callers once more at most. */
const MAX_CAUSE_DEPTH = 5;

/**
 * True when a Temporal call failed because Temporal could not be reached or did not answer in
 * time: the request was fine and is worth repeating later. Any other Temporal failure (an invalid
 * argument, a missing namespace, a permission) would fail again and is a bug.
 */
export function isTemporalUnavailableError(error: unknown): boolean {
  for (const current of causeChain(error)) {
    if (isGrpcServiceError(current) && UNAVAILABLE_GRPC_CODES.has(current.code)) return true;
    if (current.message === CONNECT_TIMEOUT_MESSAGE) return true;
  }
  return false;
}

/**
 * The messages from the SDK's wrapper down to the gRPC status, e.g. "Failed to start Workflow:
 * 3 INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute DestinationId";
 * undefined when no gRPC status is in the chain. For logs: it leaves out the gRPC metadata (which
 * can carry request headers), and workflow inputs carry no secrets for the server to quote.
 */
export function describeTemporalError(error: unknown): string | undefined {
  const messages: string[] = [];
  for (const current of causeChain(error)) {
    messages.push(current.message.split('\n')[0]!);
    if (isGrpcServiceError(current) || current.message === CONNECT_TIMEOUT_MESSAGE) return messages.join(': ');
  }
  return undefined;
}

function* causeChain(error: unknown): Generator<Error> {
  for (let current = error, depth = 0; current instanceof Error && depth < MAX_CAUSE_DEPTH; depth++) {
    yield current;
    current = current.cause;
  }
}
