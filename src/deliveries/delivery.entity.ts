import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import type { DeliveryStatus } from './delivery-status.js';

/** Whether the event matched the destination's filter at ingest, and if not, the first rule it failed. */
export interface FilterDecision {
  matched: boolean;
  reason: string | null;
}

/** One event → destination dispatch. Its key, event_id, is sent in the body and never changes. */
@Entity({ name: 'deliveries' })
export class Delivery {
  @PrimaryColumn({ name: 'event_id', type: 'text' })
  eventId: string;

  /** The account of the event (and of its destination). */
  @Column({ name: 'account_id', type: 'text' })
  accountId: string;

  @Column({ name: 'source_event_id', type: 'uuid' })
  sourceEventId: string;

  @Column({ name: 'destination_id', type: 'uuid' })
  destinationId: string;

  @Column({ type: 'text' })
  canonical: CanonicalEvent;

  @Column({ name: 'target_event', type: 'text' })
  targetEvent: string;

  /** The exact bytes sent on every attempt; text, not jsonb, so key order and spacing never change. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  @Column({ name: 'attempt_count', type: 'integer' })
  attemptCount: number;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;


  /** The destination's routing filter as ingest applied it; null when the destination had none. */
  @Column({ name: 'filter_decision', type: 'jsonb', nullable: true })
  filterDecision: FilterDecision | null;

  @Column({ name: 'workflow_id', type: 'text' })
  workflowId: string;

  /** A test event (POST …/destinations/:id/test): sent like any delivery, left out of health and recoveries. */
  @Column({ type: 'boolean' })
  test: boolean;

  /** Set once Temporal has accepted the workflow start; null means the dispatch still has to happen. */
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
