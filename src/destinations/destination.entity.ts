import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';

export const DESTINATION_METHODS = ['POST', 'PUT', 'PATCH', 'GET'] as const;
/** The methods of each format: the seed's JSON body is never sent with GET, a postback never as PUT/PATCH. */
export const METHODS_BY_FORMAT = { json: ['POST', 'PUT', 'PATCH'], postback: ['GET', 'POST'] } as const;
export const DESTINATION_FORMATS = ['json', 'postback'] as const;
export type DestinationFormat = (typeof DESTINATION_FORMATS)[number];

/** Routing rules: an event reaches the destination only when its click and data match every rule given. */
export interface DestinationFilter {
  campaign_ids?: string[];
  /** ISO 3166-1 alpha-2, upper case. */
  countries?: string[];
  /** Deposits below this value (a decimal string) do not reach the destination; other events are not affected. */
  min_value?: string;
}

/**
 * What a deleted destination holds instead of its signing secret. The column stays NOT NULL for
 * live destinations, and a CHECK constraint keeps deleted rows free of secrets and header values.
 */
export const ERASED_SIGNING_SECRET = '';
export type DestinationMethod = (typeof DESTINATION_METHODS)[number];

/** Per-destination overrides of the global delivery defaults; absent fields use the defaults. */
export interface RetryPolicyOverrides {
  initial_interval_ms?: number;
  backoff_coefficient?: number;
  max_interval_ms?: number;
  max_attempts?: number;
  max_age_ms?: number;
}

@Entity({ name: 'destinations' })
export class Destination {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The account the destination belongs to; only that account's events reach it. */
  @Column({ name: 'account_id', type: 'text' })
  accountId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text' })
  method: DestinationMethod;

  @Column({ type: 'text', default: 'json' })
  format: DestinationFormat;

  /** A postback's URL with {macros}; null for json destinations, whose `url` is sent as it is. */
  @Column({ name: 'url_template', type: 'text', nullable: true })
  urlTemplate: string | null;

  /** Values of the template's {secret.NAME} macros: secrets like header values; `{}` once deleted. */
  @Column({ name: 'template_secrets', type: 'jsonb', default: {} })
  templateSecrets: Record<string, string>;

  @Column({ name: 'success_body', type: 'text', nullable: true })
  successBody: string | null;

  @Column({ type: 'jsonb', nullable: true })
  filter: DestinationFilter | null;

  /** Values are secrets: never logged, masked in responses, read only by the send activity; `{}` once deleted. */
  @Column({ type: 'jsonb' })
  headers: Record<string, string>;

  @Column({ name: 'event_map', type: 'jsonb' })
  eventMap: Partial<Record<CanonicalEvent, string>>;

  @Column({ type: 'boolean' })
  enabled: boolean;

  /** Null → the global DELIVERY_TIMEOUT_MS. */
  @Column({ name: 'timeout_ms', type: 'integer', nullable: true })
  timeoutMs: number | null;

  @Column({ name: 'retry_policy', type: 'jsonb' })
  retryPolicy: RetryPolicyOverrides;

  /** Requests per second; null → the account's default, else DEFAULT_RATE_LIMIT_PER_SECOND (unset: no limit). */
  @Column({ name: 'rate_limit_per_second', type: 'double precision', nullable: true })
  rateLimitPerSecond: number | null;

  /** Attempts in flight at once; null → the account's default, else DEFAULT_MAX_IN_FLIGHT. */
  @Column({ name: 'max_in_flight', type: 'integer', nullable: true })
  maxInFlight: number | null;

  /** Set while paused: deliveries are held, not sent, until resumed. */
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true })
  pausedAt: Date | null;

  /** When and why the destination was disabled (through the API or by auto-disable); null while enabled. */
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  /** ERASED_SIGNING_SECRET once the destination is deleted. */
  @Column({ name: 'signing_secret', type: 'text' })
  signingSecret: string;

  /** The secret replaced by the last rotation, still used to sign until the grace period ends. */
  @Column({ name: 'previous_signing_secret', type: 'text', nullable: true })
  previousSigningSecret: string | null;

  @Column({ name: 'previous_signing_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSigningSecretExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Soft delete keeps the delivery history of a removed destination readable. */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt: Date | null;
}
