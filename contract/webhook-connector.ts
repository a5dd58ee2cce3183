/** One HTTP attempt as the send activity asks for it. */
export interface WebhookRequest {
  url: string;
  method: WebhookMethod;
  headers: Record<string, string>;
  /** Undefined for a postback GET. */
  body: string | undefined;
  /** The body's media type: the seed's JSON (the default), or a postback's form. */
  contentType?: 'application/json' | 'application/x-www-form-urlencoded';
  timeoutMs: number;
  /** Aborts the attempt when the delivery is cancelled. */
  signal?: AbortSignal;
}

/** GET only for postback destinations (a tracker's S2S convention), which may also POST a form. */
export type WebhookMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';

export interface WebhookResponse {
  statusCode: number;
  retryAfter: string | undefined;
  /**
   * The start of the response body as it arrived, raw bytes with any secrets the receiver echoed:
   * the activity masks them before anything is stored.
   */
  bodyStart: Uint8Array;
}

/**
 * How the send activity reaches receivers. The worker hands it one built on a connection pool
 * whose every connection is checked against the SSRF rules; a refused connection fails with an
 * error (or cause) whose `code` is NON_PUBLIC_ADDRESS_CODE. Throws on any failure to get a status line.
 */
export interface WebhookConnector {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
