import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Dispatcher } from 'undici';
import { createDeliveryActivities, WebhookHttpClient } from '../../activities/index.js';
import { createOperationalWebhookActivities } from '../../activities/operational-webhook.activities.js';
import { OperationalNotifications } from '../operational-webhooks/operational-notifications.js';
import { PostgresOperationalWebhookStore } from '../operational-webhooks/operational-webhook.store.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HOST_RESOLVER } from '../config/config.module.js';
import type { HostResolver } from '../url-policy/destination-url-policy.js';
import { DeliveryControlService } from '../deliveries/delivery-control.service.js';
import { DeliveryRepository } from '../deliveries/delivery.repository.js';
import { createRecoveryActivities } from '../recoveries/recovery.activities.js';
import { RecoveryRepository } from '../recoveries/recovery.repository.js';
import { createRetentionActivities } from '../retention/retention.activities.js';
import { PostgresTrafficGate } from '../traffic/postgres-traffic-gate.js';
import { TemporalDeliveryWaker } from '../traffic/temporal-delivery-waker.js';
import { rootLogger } from '../logging/root-logger.js';
import { prometheusDeliveryMetrics } from '../metrics/delivery-metrics.js';
import { ensureDeliverySearchAttributes } from './search-attribute-registration.js';
import { installTemporalRuntime } from './temporal-runtime.js';
import { createWebhookDispatcher } from './webhook-dispatcher.js';
import { workflowCodeOptions } from './workflow-code.js';

/** Worker slots for concurrent HTTP attempts; retrying deliveries waiting in backoff hold none. */
const MAX_CONCURRENT_ATTEMPTS = 200;

/** Delivery workflows kept in the worker's sticky cache, so memory stays bounded whatever the backlog. */
const MAX_CACHED_WORKFLOWS = 500;

/**
 * How the delivery worker is tuned. Exported so the benchmark's bare-Temporal ceiling
 * (bench/ceiling-b) runs a worker with exactly these settings.
 */
export const DELIVERY_WORKER_TUNING = {
  // The SDK's default cache scales with the heap (~2,000 workflows here) and keeps every open
  // delivery, so a backlog waiting in backoff grew the worker by ~465 MiB. First-try deliveries
  // leave the cache within a second; the least recently used ones (those in backoff) are evicted
  // and replay their short history on their next attempt.
  maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
  maxConcurrentActivityTaskExecutions: MAX_CONCURRENT_ATTEMPTS,
  maxConcurrentLocalActivityExecutions: MAX_CONCURRENT_ATTEMPTS,
  // A workflow task stays open while its local first attempt runs, so each attempt in flight holds
  // one of these: at the SDK's default of 40, twenty attempts hanging at one receiver left the other
  // destinations' deliveries half of them. As many as attempts, so attempts are the bound.
  maxConcurrentWorkflowTaskExecutions: MAX_CONCURRENT_ATTEMPTS,
  // Heartbeats carry cancellations: flush them within a second so a cancel aborts a hanging attempt promptly.
  maxHeartbeatThrottleInterval: '1 second',
  defaultHeartbeatThrottleInterval: '1 second',
} satisfies Partial<WorkerOptions>;

const SHUTDOWN_GRACE = '20 seconds';

/** Runs the Temporal worker that executes delivery workflows and their send activity. */
@Injectable()
export class DeliveryWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorkerService.name);
  private connection: NativeConnection | undefined;
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private httpDispatcher: Dispatcher | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    @Inject(HOST_RESOLVER) private readonly hostResolver: HostResolver,
    private readonly gate: PostgresTrafficGate,
    private readonly waker: TemporalDeliveryWaker,
    private readonly notifier: OperationalNotifications,
    private readonly operationalWebhooks: PostgresOperationalWebhookStore,
    private readonly recoveries: RecoveryRepository,
    private readonly deliveryControl: DeliveryControlService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await installTemporalRuntime();
    const { address, namespace, taskQueue } = this.config.temporal;
    this.connection = await NativeConnection.connect({ address });
    const registered = await ensureDeliverySearchAttributes(this.connection, namespace);
    if (registered.length > 0) this.logger.log(`registered search attributes: ${registered.join(', ')}`);

    this.httpDispatcher = createWebhookDispatcher({ allowedCidrs: this.config.allowedCidrs, resolver: this.hostResolver });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace,
      taskQueue,
      ...workflowCodeOptions(),
      activities: {
        ...createDeliveryActivities({
          store: this.deliveries,
          // The activity reaches receivers only through this pool, whose connector enforces the SSRF rules.
          http: new WebhookHttpClient(this.httpDispatcher),
          minRetryIntervalMs: this.config.limits.minRetryIntervalMs,
          metrics: prometheusDeliveryMetrics,
          logger: rootLogger.child({ component: 'delivery' }),
          gate: this.gate,
          waker: this.waker,
          notifier: this.notifier,
          traffic: this.config.traffic,
        }),
        // The account-level channel: same guarded pool, its own workflow, store and records.
        ...createOperationalWebhookActivities({
          store: this.operationalWebhooks,
          http: new WebhookHttpClient(this.httpDispatcher),
          minRetryIntervalMs: this.config.limits.minRetryIntervalMs,
          logger: rootLogger.child({ component: 'operational-webhook' }),
        }),
        // Bulk recoveries: pages of deliveries retried through the same claim as POST …/retry.
        ...createRecoveryActivities({ recoveries: this.recoveries, deliveries: this.deliveries, control: this.deliveryControl }),
        // The hourly retention purge (RetentionSchedule starts its workflow).
        ...createRetentionActivities({ deliveries: this.deliveries, recoveries: this.recoveries, retentionDays: this.config.retentionDays }),
      },
      ...DELIVERY_WORKER_TUNING,
      // On SIGTERM an attempt in flight may finish (at most one attempt timeout) before it is cancelled and retried elsewhere.
      shutdownGraceTime: SHUTDOWN_GRACE,
    });
    this.running = this.worker.run();
    this.running.catch((error: unknown) => this.logger.error(`worker stopped: ${String(error)}`));
    this.logger.log(`worker polling task queue "${taskQueue}" on ${address}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await this.connection?.close();
    await this.httpDispatcher?.close();
  }
}
