/**
 * ApplicationFailure types the send activity throws; the workflow names the permanent ones in its
 * retry policy, so they live here, free of imports the workflow bundle could not load.
 */
/** UnexpectedResponseBody: a 2xx whose body lacks the destination's `success_body`, retried like a 5xx. */
export type RetryableErrorType = 'RetryableHttpStatus' | 'AttemptTimeout' | 'NetworkError' | 'UnexpectedResponseBody';
export type PermanentErrorType =
  | 'PermanentHttpStatus'
  | 'DestinationNotPublic'
  | 'DestinationUnavailable'
  | 'DeliveryNotFound'
  | 'InvalidRequest'
  | 'DestinationDisabled';

/** Retried by the workflow's retry policy, with the run's backoff. */
export const RETRYABLE_ERROR_TYPES: readonly RetryableErrorType[] = ['RetryableHttpStatus', 'AttemptTimeout', 'NetworkError', 'UnexpectedResponseBody'];

/** Never retried by the workflow's retry policy, whatever an individual failure says. */
export const PERMANENT_ERROR_TYPES: readonly PermanentErrorType[] = [
  'PermanentHttpStatus',
  'DestinationNotPublic',
  'DestinationUnavailable',
  'DeliveryNotFound',
  'InvalidRequest',
  'DestinationDisabled',
];

/** Thrown before anything is sent when the destination is disabled: the workflow records `skipped`. */
export const DESTINATION_DISABLED_ERROR_TYPE: PermanentErrorType = 'DestinationDisabled';


/**
 * What activities from before DeliveryHeld threw while the account was disabled (details: the
 * attempts made); still understood by the workflow for attempts scheduled before a deploy.
 */
export const ACCOUNT_DISABLED_ERROR_TYPE = 'AccountDisabled';

/**
 * `code` of the error a connection fails with when the address dialled is not public: set by the
 * worker's guarded connector (src/url-policy), read by the activity to make the attempt permanent.
 */
export const NON_PUBLIC_ADDRESS_CODE = 'ERR_DESTINATION_NOT_PUBLIC';
