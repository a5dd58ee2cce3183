import type { DataSource } from 'typeorm';
import type { DestinationMethod } from '../destinations/destination.entity.js';
import type { DeliveryStatus } from './delivery-status.js';

/** What the send activity needs for one attempt, secrets included; never leaves the worker. */
export interface DeliveryTarget {
  eventId: string;
  body: string;
  status: DeliveryStatus;
  destination: {
    url: string;
    method: DestinationMethod;
    headers: Record<string, string>;
    timeoutMs: number | null;
    signingSecret: string;
    /** Set while a rotation's grace period runs: requests are signed with both secrets. */
    previousSigningSecret: string | null;
    enabled: boolean;
    deleted: boolean;
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
  /** The delivery's status after this attempt. */
  status: Extract<DeliveryStatus, 'sent' | 'retrying' | 'failed'>;
  nextAttemptAt: Date | null;
}

/**
 * Delivery bookkeeping done by the worker, written as single SQL statements so an attempt
 * costs one round trip to load and one to record.
 */
export class DeliveryStore {
  constructor(private readonly dataSource: DataSource) {}

  async loadTarget(eventId: string): Promise<DeliveryTarget | undefined> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT d.event_id, d.body, d.status,
              t.url, t.method, t.headers, t.timeout_ms, t.signing_secret, t.enabled, t.deleted_at,
              CASE WHEN t.previous_signing_secret_expires_at > now() THEN t.previous_signing_secret END AS previous_signing_secret
         FROM deliveries d JOIN destinations t ON t.id = d.destination_id
        WHERE d.event_id = $1`,
      [eventId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      eventId: row.event_id as string,
      body: row.body as string,
      status: row.status as DeliveryStatus,
      destination: {
        url: row.url as string,
        method: row.method as DestinationMethod,
        headers: row.headers as Record<string, string>,
        timeoutMs: row.timeout_ms as number | null,
        signingSecret: row.signing_secret as string,
        previousSigningSecret: row.previous_signing_secret as string | null,
        enabled: row.enabled as boolean,
        deleted: row.deleted_at !== null,
      },
    };
  }

  /**
   * Records an attempt and moves the delivery on in one statement. A repeated record of the same
   * attempt (the activity retried after the database blinked) is ignored, so nothing is counted twice.
   * A delivery cancelled meanwhile keeps its `cancelled` status.
   */
  async recordAttempt(record: AttemptRecord): Promise<void> {
    await this.dataSource.query(
      `WITH inserted AS (
         INSERT INTO delivery_attempts
           (event_id, workflow_run_id, attempt, started_at, duration_ms, status_code, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_id, workflow_run_id, attempt) DO NOTHING
         RETURNING 1
       )
       UPDATE deliveries SET
         attempt_count = attempt_count + (SELECT count(*) FROM inserted),
         status = CASE WHEN status = 'cancelled' THEN status ELSE $9 END,
         last_status_code = $6,
         last_error = $7,
         next_attempt_at = $10,
         completed_at = CASE WHEN $9 IN ('sent', 'failed') THEN now() ELSE completed_at END,
         updated_at = now()
       WHERE event_id = $1`,
      [
        record.eventId,
        record.workflowRunId,
        record.attempt,
        record.startedAt,
        record.durationMs,
        record.statusCode,
        record.error,
        record.responseBody,
        record.status,
        record.nextAttemptAt,
      ],
    );
  }

  /** Final status decided by the workflow: retries exhausted, a permanent failure, or a cancellation. */
  async finish(eventId: string, status: Extract<DeliveryStatus, 'failed' | 'cancelled'>, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET status = $2, last_error = COALESCE(last_error, $3), next_attempt_at = NULL,
              completed_at = now(), updated_at = now()
        WHERE event_id = $1 AND status <> 'sent'`,
      [eventId, status, reason],
    );
  }
}
