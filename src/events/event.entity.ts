import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/** One ingested canonical event, unique by the producer's idempotency key. */
@Entity({ name: 'events' })
export class TrackedEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'idempotency_key', type: 'text', unique: true })
  idempotencyKey: string;

  /** Hash of the request that first used the key, to refuse reuse of a key for a different event. */
  @Column({ type: 'text' })
  fingerprint: string;

  @Column({ type: 'text' })
  canonical: CanonicalEvent;

  @Column({ type: 'text' })
  uid: string;

  @Column({ name: 'occurred_at_ms', type: 'bigint', transformer: bigintAsNumber })
  occurredAtMs: number;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
