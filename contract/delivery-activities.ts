import type { DeliveryPlan } from './delivery-plan.js';
import type { HoldReason } from './traffic-gate.js';

/** Workflow input: identifiers and the run's plan only; secrets and the body stay in the database. */
export interface DeliveryWorkflowInput extends DeliveryPlan {
  eventId: string;
  destinationId: string;
  /**
   * The run's first attempt runs as a local activity (FIRST_ATTEMPT_LOCAL); absent on runs started
   * before it existed, which keep the regular activity throughout.
   */
  firstAttemptLocal?: boolean;
  /** Carried over by continue-as-new after long holds: what the run had already spent. */
  spent?: RunBudgetSpent;
}

/** What a run has used of its plan: attempts sent and retry window, neither counting time held. */
export interface RunBudgetSpent {
  attempts: number;
  windowMs: number;
  /** A rate slot the run reserved and has not used yet. */
  reservedSlotAtMs?: number;
}

/**
 * What the send activity returns when the delivery must wait instead of attempting (account
 * disabled, destination paused, breaker open, a rate or concurrency limit): a result, not a
 * failure, so Temporal spends no retry on it and neither logs nor the UI call it a failure.
 */
export interface SendWebhookResult {
  held?: DeliveryHold;
}

/** Why a delivery waits, for how long, and what the activity spent before it was held. */
export interface DeliveryHold {
  reason: HoldReason;
  /** The activity's suggestion; the workflow waits at most this long, less when a signal wakes it. */
  waitMs: number;
  /**
   * False (or absent): the wait's end is unknown (account disabled, destination paused, queued
   * behind others): the workflow waits for a signal, looking again after a backoff of its own that
   * is never shorter than `waitMs`. True: `waitMs` is the moment to look again.
   */
  exact?: boolean;
  /** Attempts the held activity made (and recorded) before it was held. */
  attemptsMade: number;
  reservedSlotAtMs?: number;
}

/**
 * Signal that wakes a held delivery so it asks for admission at once rather than at its next
 * check: sent when an account is enabled, a destination resumed, or a slot or breaker frees up.
 */
export const RESUME_DELIVERY_SIGNAL = 'resumeDelivery';

/**
 * Memo key of the time (ms since the epoch) the workflow waits for between a failed local first
 * attempt and the regular activity that retries it: no pending activity tells it meanwhile.
 */
export const NEXT_ATTEMPT_AT_MEMO = 'next_attempt_at_ms';

/** What a retryable failed attempt tells the workflow, as its failure's first detail. */
export interface AttemptFailureDetails {
  statusCode: number | null;
  /** The delay the attempt chose before the next one (Retry-After, the floor or the backoff). */
  retryDelayMs?: number;
  /**
   * When the attempt ended (ms since the epoch). Workflow time stands still while a local activity
   * runs, so the end of the wait that follows is counted from this, not from the workflow's clock.
   */
  endedAtMs?: number;
}

export interface DeliveryWorkflowResult {
  status: 'sent' | 'skipped';
}

/** One attempt: which delivery, and the plan of the run it belongs to. */
export interface SendWebhookInput extends DeliveryPlan {
  eventId: string;
  /**
   * Attempts this run made before the current activity was scheduled (the activity is scheduled
   * anew after a hold while the account was disabled): attempt numbers stay unique within the run.
   */
  attemptsBefore?: number;
  /** A rate slot reserved on an earlier hold (DeliveryHold.reservedSlotAtMs). */
  reservedSlotAtMs?: number;
}

export interface FinishDeliveryInput {
  eventId: string;
  status: 'failed' | 'cancelled' | 'skipped';
  reason: string;
}

/** The activities the delivery workflow schedules; the worker registers an implementation of each. */
export interface DeliveryActivities {
  /** Resolves empty once the receiver accepted, with `held` when the delivery must wait; throws when the attempt failed. */
  sendWebhook(input: SendWebhookInput): Promise<SendWebhookResult | void>;
  finishDelivery(input: FinishDeliveryInput): Promise<void>;
}
