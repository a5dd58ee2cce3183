/**
 * ApplicationFailure types the send activity throws; the workflow names the permanent ones in its
 * retry policy, so they live here, free of imports the workflow bundle could not load.
 */
export type RetryableErrorType = 'RetryableHttpStatus' | 'AttemptTimeout' | 'NetworkError';
export type PermanentErrorType =
  | 'PermanentHttpStatus'
  | 'DestinationNotPublic'
  | 'DestinationUnavailable'
  | 'DeliveryNotFound'
  | 'InvalidRequest';

/** Never retried by the workflow's retry policy, whatever an individual failure says. */
export const PERMANENT_ERROR_TYPES: readonly PermanentErrorType[] = [
  'PermanentHttpStatus',
  'DestinationNotPublic',
  'DestinationUnavailable',
  'DeliveryNotFound',
  'InvalidRequest',
];

/**
 * Thrown by the send activity, before anything is sent, while the delivery's account is disabled:
 * the workflow holds the delivery (no attempt is spent) until the account is enabled again.
 */
export const ACCOUNT_DISABLED_ERROR_TYPE = 'AccountDisabled';

/**
 * `code` of the error a connection fails with when the address dialled is not public: set by the
 * worker's guarded connector (src/url-policy), read by the activity to make the attempt permanent.
 */
export const NON_PUBLIC_ADDRESS_CODE = 'ERR_DESTINATION_NOT_PUBLIC';
