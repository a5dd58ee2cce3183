import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One HTTP attempt of a delivery, as the send activity saw it. */
@Entity({ name: 'delivery_attempts' })
export class DeliveryAttempt {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The account of the delivery, so the attempt is readable only within it. */
  @Column({ name: 'account_id', type: 'text' })
  accountId: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId: string;

  /** Temporal run the attempt belongs to: an explicit retry starts a new run whose attempts count from 1. */
  @Column({ name: 'workflow_run_id', type: 'text' })
  workflowRunId: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  /** The method and URL as sent, secret template parts masked; null for attempts recorded before it was kept. */
  @Column({ name: 'request_line', type: 'text', nullable: true })
  requestLine: string | null;
}
