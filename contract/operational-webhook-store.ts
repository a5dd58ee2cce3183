/**
 * An operational notification's status. `notify` inserts `pending`; the send activity writes `sent`
 * when the receiver accepts it; the workflow (failOperationalWebhook) writes `failed` when a
 * permanent outcome, the attempts or the retry window ended it. Both changes apply to `pending`
 * only, checked in the statement, so a late or repeated write changes nothing.
 */
export const OPERATIONAL_NOTIFICATION_STATUSES = ['pending', 'sent', 'failed'] as const;
export type OperationalNotificationStatus = (typeof OPERATIONAL_NOTIFICATION_STATUSES)[number];

/** What the send activity loads for one attempt, secrets included; never leaves the worker. */
export interface OperationalWebhookTarget {
  notificationId: string;
  accountId: string;
  status: OperationalNotificationStatus;
  /** The JSON body fixed at creation: the same bytes on every attempt. */
  body: string;
  /**
   * The account's channel as it is now, or null once the account removed its URL. `signingSecrets`
   * holds the current secret first, then the previous one while a rotation's grace period runs.
   */
  endpoint: { url: string; signingSecrets: string[] } | null;
}

export interface OperationalWebhookAttemptRecord {
  notificationId: string;
  /** Temporal's attempt number: recording the same attempt twice counts it once. */
  attempt: number;
  statusCode: number | null;
  /** `<error type>: <reason>`, or null when the receiver accepted it. */
  error: string | null;
  /** The receiver accepted it: the notification becomes `sent`. */
  sent: boolean;
}

/** The bookkeeping of the operational webhook activities, implemented by the worker on PostgreSQL. */
export interface OperationalWebhookStore {
  loadTarget(notificationId: string): Promise<OperationalWebhookTarget | undefined>;
  recordAttempt(record: OperationalWebhookAttemptRecord): Promise<void>;
  /** Resolves false when the notification was not pending (already sent or failed, or gone). */
  fail(notificationId: string, reason: string): Promise<boolean>;
  /** Whether an error means the database could not be reached, so the same write may be tried again. */
  isUnavailableError(error: unknown): boolean;
}
