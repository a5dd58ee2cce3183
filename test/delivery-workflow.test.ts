import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { RESUME_DELIVERY_SIGNAL, type FinishDeliveryInput, type SendWebhookInput, type SendWebhookResult } from '../contract/delivery-activities.js';
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
    const description = await env.client.workflow.getHandle(workflowId).describe();
    return { ...outcome, finished, calls, status: description.typedSearchAttributes.get(DELIVERY_STATUS) };
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
    const outcome = await run(input({ maxAgeMs: 1500, initialIntervalMs: 400, maxIntervalMs: 400 }), async () => {
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
});
