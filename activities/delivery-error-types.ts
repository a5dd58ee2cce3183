/**
 * ApplicationFailure types the send activity throws. Kept free of imports so the
 * workflow bundle can name them without pulling in Node modules.
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
