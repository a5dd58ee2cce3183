import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NEXT_ATTEMPT_AT_MEMO, RESUME_DELIVERY_SIGNAL, type FinishDeliveryInput, type SendWebhookInput, type SendWebhookResult } from '../contract/delivery-activities.js';
import { ACCOUNT_DISABLED_ERROR_TYPE } from '../contract/delivery-error-types.js';
import { DELIVERY_STATUS } from '../contract/search-attributes.js';
import { workflowSourcePath } from '../src/temporal/workflow-code.js';
import { deliveryWorkflow, type DeliveryWorkflowInput } from '../workflows/index.js';

/**
 * The delivery workflow's own logic on the real Temporal server and the real workflow bundle;
 * only the activities are scripted, to play a receiver's answers without HTTP.
 */
describe('delivery workflow', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
    bundle = await bundleWorkflowCode({ workflowsPath: workflowSourcePath() });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const input = (retry: Partial<DeliveryWorkflowInput['retry']> = {}): DeliveryWorkflowInput => ({
    eventId: randomBytes(16).toString('hex'),
    destinationId: 'd-1',
    attemptTimeoutMs: 1000,
    retry: { initialIntervalMs: 100, backoffCoefficient: 1, maxIntervalMs: 100, maxAttempts: 0, maxAgeMs: 60_000, ...retry },
  });

  /** Runs one workflow with scripted sendWebhook outcomes; returns what finishDelivery was told. */
  async function run(workflowInput: DeliveryWorkflowInput, sendWebhook: (input: SendWebhookInput, call: number) => Promise<SendWebhookResult | void>) {
    const taskQueue = `wf-${randomBytes(4).toString('hex')}`;
    const finished: FinishDeliveryInput[] = [];
    let calls = 0;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: {
        sendWebhook: (activityInput: SendWebhookInput) => sendWebhook(activityInput, ++calls),
        finishDelivery: async (finish: FinishDeliveryInput) => void finished.push(finish),
      },
    });
    const workflowId = `delivery-${workflowInput.eventId}`;
    const outcome = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(deliveryWorkflow, {
        taskQueue,
        workflowId,
        args: [workflowInput],
      });
      return handle.result().then(
        (result) => ({ result, error: undefined }),
        (error: unknown) => ({ result: undefined, error }),
      );
    });
    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const events = (await handle.fetchHistory()).events ?? [];
    const eventTypes = events.map((event) => temporal.api.enums.v1.EventType[event.eventType ?? 0]);
    return { ...outcome, finished, calls, status: description.typedSearchAttributes.get(DELIVERY_STATUS), events, eventTypes, memo: description.memo };
  }

  it('completes as sent after retryable failures, with no bookkeeping step and no search attribute upsert', async () => {
    const outcome = await run(input(), async (_, call) => {
      if (call < 3) throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 503' });
    });
    expect(outcome.result).toEqual({ status: 'sent' });
    expect(outcome.calls).toBe(3);
    expect(outcome.finished).toEqual([]);
    // Sent is ExecutionStatus Completed without a DeliveryStatus: the upsert would cost an event and an action.
    expect(outcome.status).toBeUndefined();
  });

  it("passes the event id and the run's plan to the activity, never a secret or the body", async () => {
    const workflowInput = input({ initialIntervalMs: 250, maxIntervalMs: 900, maxAttempts: 4 });
    let seen: SendWebhookInput | undefined;
    await run(workflowInput, async (activityInput) => void (seen = activityInput));
    expect(seen).toEqual({
      eventId: workflowInput.eventId,
      attemptTimeoutMs: 1000,
      retry: { initialIntervalMs: 250, backoffCoefficient: 1, maxIntervalMs: 900, maxAttempts: 4, maxAgeMs: 60_000 },
      attemptsBefore: 0,
    });
  });

  it('holds a delivery whose account is disabled, resumes it on the resume signal, and numbers its attempts on', async () => {
    const seen: SendWebhookInput[] = [];
    const startedAt = Date.now();
    const outcome = await run(input(), async (activityInput, call) => {
      seen.push(activityInput);
      if (call === 1) {
        // Two attempts were made (and recorded) before this one found the account disabled.
        setTimeout(() => void env.client.workflow.getHandle(`delivery-${activityInput.eventId}`).signal(RESUME_DELIVERY_SIGNAL), 500);
        throw ApplicationFailure.create({ type: ACCOUNT_DISABLED_ERROR_TYPE, message: 'account acme is disabled', nonRetryable: true, details: [2] });
      }
    });
    expect(outcome.result).toEqual({ status: 'sent' });
    expect(outcome.finished).toEqual([]);
    expect(seen.map((activityInput) => activityInput.attemptsBefore)).toEqual([0, 2]);
    // The signal ended the hold, not its 30 s timer.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
  });

  it('spends no attempt on a hold: after two failed attempts and a rate-limit hold, max_attempts 3 leaves exactly one more', async () => {
    const seen: SendWebhookInput[] = [];
    const outcome = await run(input({ maxAttempts: 3 }), async (activityInput, call) => {
      seen.push(activityInput);
      if (call <= 2) throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 503' });
      if (call === 3) return { held: { reason: 'rate_limited', waitMs: 200, attemptsMade: 2, exact: true, reservedSlotAtMs: 1_800_000_000_000 } };
      throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 502' });
    });
    // Calls 1-2 are one scheduled activity retried by Temporal; 3 is its last try, held; 4 is the new activity's only attempt.
    expect(outcome.calls).toBe(4);
    expect(seen.map((activityInput) => activityInput.attemptsBefore)).toEqual([0, 0, 0, 2]);
    expect(seen[3]?.reservedSlotAtMs).toBe(1_800_000_000_000);
    expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 502' })]);
  });

  it('spends no retry window on a hold: a delivery held longer than max_age_ms is still attempted afterwards', async () => {
    let held = false;
    // Wide enough for a loaded machine to run the first (held) activity well within the window.
    const outcome = await run(input({ maxAgeMs: 4_000 }), async () => {
      if (!held) {
        held = true;
        return { held: { reason: 'breaker_open', waitMs: 6_000, attemptsMade: 0, exact: true } };
      }
    });
    expect(outcome.result).toEqual({ status: 'sent' });
    expect(outcome.calls).toBe(2);
  });

  it('records skipped, not failed, when the destination is disabled', async () => {
    const outcome = await run(input(), async () => {
      throw ApplicationFailure.create({ type: 'DestinationDisabled', message: 'destination is disabled', nonRetryable: true });
    });
    expect(outcome.result).toEqual({ status: 'skipped' });
    expect(outcome.finished).toEqual([expect.objectContaining({ status: 'skipped', reason: 'destination is disabled' })]);
    expect(outcome.status).toBe('skipped');
  });

  it('stops at a permanent failure, records failed and fails the workflow', async () => {
    const outcome = await run(input(), async () => {
      throw ApplicationFailure.create({ type: 'PermanentHttpStatus', message: 'receiver answered HTTP 400', nonRetryable: true });
    });
    expect(outcome.calls).toBe(1);
    expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 400' })]);
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    expect(outcome.status).toBe('failed');
  });

  it('treats a permanent error type as final even when the failure claims to be retryable', async () => {
    const outcome = await run(input(), async () => {
      throw ApplicationFailure.create({ type: 'DestinationNotPublic', message: 'destination resolves to a non-public address' });
    });
    expect(outcome.calls).toBe(1);
    expect(outcome.finished[0]?.status).toBe('failed');
  });

  it('gives up after max_attempts and records failed with the last reason', async () => {
    const outcome = await run(input({ maxAttempts: 2 }), async () => {
      throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 502' });
    });
    expect(outcome.calls).toBe(2);
    expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 502' })]);
  });

  it('gives up when the retry window (max_age_ms) ends', async () => {
    const outcome = await run(input({ maxAgeMs: 4_000, initialIntervalMs: 400, maxIntervalMs: 400 }), async () => {
      throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 503' });
    });
    expect(outcome.calls).toBeGreaterThanOrEqual(2);
    // Temporal either times the activity out or, when no retry fits in the window, returns the last failure.
    expect(outcome.finished).toEqual([
      expect.objectContaining({
        status: 'failed',
        reason: expect.stringMatching(/^(retry window ended before the receiver accepted the webhook|receiver answered HTTP 503)$/),
      }),
    ]);
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
  });

  it('honours nextRetryDelay from a Retry-After', async () => {
    const started: number[] = [];
    await run(input(), async (_, call) => {
      started.push(Date.now());
      if (call === 1) throw ApplicationFailure.create({ type: 'RetryableHttpStatus', message: '429', nextRetryDelay: 1500 });
    });
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(1400);
  });

  describe('with the first attempt as a local activity', () => {
    const localFirst = (retry: Partial<DeliveryWorkflowInput['retry']> = {}): DeliveryWorkflowInput => ({ ...input(retry), firstAttemptLocal: true });
    const http503 = (retryDelayMs?: number) =>
      ApplicationFailure.create({ type: 'RetryableHttpStatus', message: 'receiver answered HTTP 503', details: [{ statusCode: 503, retryDelayMs }] });

    it('sends a first-try delivery in one workflow task: 6 history events, a marker and no activity task', async () => {
      const outcome = await run(localFirst(), async () => undefined);
      expect(outcome.result).toEqual({ status: 'sent' });
      expect(outcome.calls).toBe(1);
      expect(outcome.eventTypes).toEqual([
        'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        'EVENT_TYPE_MARKER_RECORDED',
        'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      ]);
      expect(outcome.status).toBeUndefined();
    });

    it('retries a failed first attempt as a regular activity after the delay the attempt chose, the backoff going on where it stands', async () => {
      const started: number[] = [];
      const seen: SendWebhookInput[] = [];
      const outcome = await run(localFirst({ initialIntervalMs: 100, backoffCoefficient: 2, maxIntervalMs: 10_000 }), async (activityInput, call) => {
        started.push(Date.now());
        seen.push(activityInput);
        if (call === 1) throw http503(700);
      });
      expect(outcome.result).toEqual({ status: 'sent' });
      expect(seen.map((activityInput) => activityInput.attemptsBefore)).toEqual([0, 1]);
      expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(650);
      // The wait is a workflow timer, its end in the memo for the API (readNextAttemptAt).
      expect(outcome.eventTypes).toContain('EVENT_TYPE_TIMER_STARTED');
      const timer = outcome.events.find((event) => event.timerStartedEventAttributes)?.timerStartedEventAttributes;
      expect(Number(timer?.startToFireTimeout?.seconds ?? 0) * 1000 + Math.round((timer?.startToFireTimeout?.nanos ?? 0) / 1e6)).toBe(700);
      expect(outcome.memo?.[NEXT_ATTEMPT_AT_MEMO]).toEqual(expect.any(Number));
      // The run's second attempt failing would back off 100 × 2¹ ms: the activity's policy starts there, not at 100 again.
      const scheduled = outcome.events.find((event) => event.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
      expect(scheduled?.retryPolicy?.initialInterval).toMatchObject({ nanos: 200_000_000 });
    });

    it("falls back to the policy's first interval when the failure carries no delay (a timeout, a database outage)", async () => {
      const started: number[] = [];
      await run(localFirst({ initialIntervalMs: 400, backoffCoefficient: 1, maxIntervalMs: 400 }), async (_, call) => {
        started.push(Date.now());
        if (call === 1) throw new Error('connection refused');
      });
      expect(started).toHaveLength(2);
      expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(350);
    });

    it('ends the run at a permanent failure of the first attempt, without a regular activity', async () => {
      const outcome = await run(localFirst(), async () => {
        throw ApplicationFailure.create({ type: 'PermanentHttpStatus', message: 'receiver answered HTTP 400', nonRetryable: true });
      });
      expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
      expect(outcome.calls).toBe(1);
      expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 400' })]);
      expect(outcome.eventTypes).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    });

    it('records skipped when the first attempt finds the destination disabled', async () => {
      const outcome = await run(localFirst(), async () => {
        throw ApplicationFailure.create({ type: 'DestinationDisabled', message: 'destination is disabled', nonRetryable: true });
      });
      expect(outcome.result).toEqual({ status: 'skipped' });
      expect(outcome.finished).toEqual([expect.objectContaining({ status: 'skipped' })]);
    });

    it('ends with the attempt\'s own reason when max_attempts 1 leaves no retry', async () => {
      const outcome = await run(localFirst({ maxAttempts: 1 }), async () => {
        throw http503(100);
      });
      expect(outcome.calls).toBe(1);
      expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 503' })]);
    });

    it('ends the run when the chosen delay reaches past the retry window, as Temporal would', async () => {
      const outcome = await run(localFirst({ maxAgeMs: 2_000 }), async () => {
        throw http503(5_000);
      });
      expect(outcome.calls).toBe(1);
      expect(outcome.finished).toEqual([expect.objectContaining({ status: 'failed', reason: 'receiver answered HTTP 503' })]);
    });

    it('holds after a first attempt that was held, then goes on with regular activities', async () => {
      const seen: SendWebhookInput[] = [];
      const outcome = await run(localFirst(), async (activityInput, call) => {
        seen.push(activityInput);
        if (call === 1) return { held: { reason: 'rate_limited', waitMs: 200, attemptsMade: 0, exact: true } };
      });
      expect(outcome.result).toEqual({ status: 'sent' });
      expect(seen.map((activityInput) => activityInput.attemptsBefore)).toEqual([0, 0]);
      expect(outcome.eventTypes).toContain('EVENT_TYPE_MARKER_RECORDED');
      expect(outcome.eventTypes).toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    });
  });
});
