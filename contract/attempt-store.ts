import type { DeliveryStatus } from './delivery-status.js';
import type { WebhookMethod } from './webhook-connector.js';

/**
 * What the send activity loads for one attempt, secrets included; never leaves the worker. It holds
 * no timeout or retry numbers: those come from the run's plan, never from the destination as it is now.
 */
export interface DeliveryTarget {
  eventId: string;
  /** The customer account the delivery belongs to; a disabled account's deliveries wait. */
  accountId: string;
  accountEnabled: boolean;
  /** The account's traffic defaults (null = the configured ones). */
  accountTraffic: { ratePerSecond: number | null; maxInFlight: number | null; autoDisableAfterMs: number | null };
  body: string;
  /** The producer's own id of the event (its idempotency key): a postback's {transaction_id}. */
  sourceEventId: string;
  status: DeliveryStatus;
  /** A test event (POST …/destinations/:id/test): marked `webhook-test: true` and left out of the destination's health. */
  test: boolean;
  /**
   * The attempt asked about (this run, this attempt number) as an earlier execution of the activity
   * recorded it, or null when none did. A workflow task redone after its local first attempt had
   * ended (the attempt's result never reached the history) runs that attempt again: it must not send again.
   */
  recordedAttempt: RecordedAttempt | null;
  destination: {
    id: string;
    /** `json`: the seed's body POSTed to `url`; `postback`: `urlTemplate` filled in and sent as GET or a form POST. */
    format: 'json' | 'postback';
    url: string;
    urlTemplate: string | null;
    /** Values of the template's {secret.NAME} macros: secrets, masked wherever the request is shown. */
    templateSecrets: Record<string, string>;
    /** What a 2xx body must contain (substring, or ^…$ pattern) to count as accepted; null = any 2xx. */
    successBody: string | null;
    method: WebhookMethod;
    headers: Record<string, string>;
    signingSecret: string;
    /** Set while a rotation's grace period runs: requests are signed with both secrets. */
    previousSigningSecret: string | null;
    enabled: boolean;
    deleted: boolean;
    paused: boolean;
    /** The destination's own limits (null = the account's default). */
    ratePerSecond: number | null;
    maxInFlight: number | null;
  };
}

export interface AttemptRecord {
  eventId: string;
  workflowRunId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  /** The method and URL as sent, secret template parts masked; null when nothing was sent. */
  requestLine?: string | null;
  /**
   * The status this attempt moves the delivery to: `sent`, or `retrying` when Temporal will try
   * again. Null when it leaves the status to the workflow, which writes `failed` itself.
   */
  status: Extract<DeliveryStatus, 'sent' | 'retrying'> | null;
}

/** What an attempt's record keeps of its outcome. */
export interface RecordedAttempt {
  statusCode: number | null;
  /** `<error type>: <reason>`, null for an accepted attempt. */
  error: string | null;
  endedAtMs: number;
}

/** Which attempt an activity execution is: its run and the run's attempt number, the key attempts are recorded under. */
export interface AttemptKey {
  workflowRunId: string;
  attempt: number;
}

/** Whose delivery a finish closed: what its notification names. */
export interface FinishedDelivery {
  accountId: string;
  destinationId: string;
  targetEvent: string;
}

/** The delivery bookkeeping the activities do, implemented by the worker on PostgreSQL. */
export interface AttemptStore {
  /** The delivery as the attempt `key` sends it, with that attempt's record should it exist already. */
  loadTarget(eventId: string, key: AttemptKey): Promise<DeliveryTarget | undefined>;
  /**
   * Keeps the attempt (once per event, run and attempt number, however often it is recorded) and,
   * while the delivery is open, moves it on. Resolves true when the delivery took the record, false
   * when it was a repeat or the delivery had already finished.
   */
  recordAttempt(record: AttemptRecord): Promise<boolean>;
  /** The run's final status; resolves undefined when the delivery was not open (already finished, or a repeat). */
  finish(eventId: string, status: Extract<DeliveryStatus, 'failed' | 'cancelled' | 'skipped'>, reason: string): Promise<FinishedDelivery | undefined>;
  /** Whether an error means the database could not be reached, so the same write may be tried again. */
  isUnavailableError(error: unknown): boolean;
}
