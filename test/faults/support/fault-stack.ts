import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { inject } from 'vitest';
import { findFreePort } from '../../../src/common/free-port.js';
import { projectRoot } from '../../../src/config/project-root.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { FaultReceiver } from './fault-receiver.js';
import type { AcceptedEvent } from './ledger.js';
import { ManagedProcess } from './processes.js';
import { TemporalServer } from './temporal-server.js';

/** The account every scenario's destinations, clicks and events belong to. */
export const FAULT_ACCOUNT = 'fault-suite';
const ROOT = projectRoot();
const DNS_SHIM = join(ROOT, 'test', 'faults', 'support', 'loopback-dns.mjs');
const START_TIMEOUT_MS = 90_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** Settings every spawned API and worker gets: short retries and timeouts so faults resolve in seconds. */
const SERVICE_ENV = {
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0',
  // Tests retry quickly; production refuses retry intervals under one second.
  RETRY_MIN_INTERVAL_MS: '100',
  RETRY_INITIAL_INTERVAL_MS: '200',
  RETRY_MAX_INTERVAL_MS: '1000',
  RETRY_MAX_AGE_MS: '600000',
  DELIVERY_TIMEOUT_MS: '5000',
  LOG_LEVEL: 'info',
  // Scenarios 1-7 crash the delivery path with every delivery of a destination in flight or in
  // backoff at once (hundreds held by the receiver, or refused with 503); a default cap of 20 in
  // flight and a breaker opening after 10 failures would hold most of them before their first
  // attempt, which is not what those scenarios are about. Scenario 8 tests the gate under crashes
  // with its own limits (destination fields, and BREAKER_* through ServiceOptions.env).
  DEFAULT_MAX_IN_FLIGHT: '10000',
  BREAKER_FAILURE_THRESHOLD: '10000',
};

export interface ApiResponse {
  status: number;
  headers: Headers | undefined;
  body: any;
  /** Set when no HTTP answer came back (connection refused or reset, timeout). */
  error?: string;
}

/** A running `node dist/src/main.js` and an authenticated JSON client for it. */
export class ApiProcess {
  constructor(
    readonly child: ManagedProcess,
    readonly port: number,
    private readonly apiKey: string,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: kept as text for the failure message
      }
      return { status: response.status, headers: response.headers, body: parsed };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { status: 0, headers: undefined, body: undefined, error: cause?.code ?? cause?.message ?? String(error) };
    }
  }
}

export interface ServiceOptions {
  /** Defaults to the scenario database; a fault proxy's address for outage scenarios. */
  databaseUrl?: string;
  /** Defaults to the scenario's Temporal server; a fault proxy's address to cut the API off. */
  temporalAddress?: string;
  /** Extra environment for this process only (e.g. BREAKER_COOLDOWN_MS), over the suite's settings. */
  env?: Record<string, string>;
}

/**
 * One scenario's world: its own database cloned from the migrated template, its own Temporal dev
 * server with an on-disk state file, a receiver, and the API and worker processes it starts.
 * close() stops every process and removes the database, also after a failure.
 */
export class FaultStack {
  readonly apiKey = `faults_${randomBytes(16).toString('hex')}`;
  private readonly processes: ManagedProcess[] = [];
  private starts = 0;
  private temporalClient: Client | undefined;

  private constructor(
    readonly name: string,
    readonly logDir: string,
    readonly stateDir: string,
    readonly database: TestDatabase,
    readonly db: pg.Client,
    readonly temporal: TemporalServer,
    readonly receiver: FaultReceiver,
  ) {}

  static async create(name: string): Promise<FaultStack> {
    const logDir = join(ROOT, '.data', 'faults', 'logs', name);
    const stateDir = join(ROOT, '.data', 'faults', 'state', `${name}-${randomBytes(4).toString('hex')}`);
    rmSync(logDir, { recursive: true, force: true });
    mkdirSync(logDir, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    const database = await createTestDatabase();
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const temporal = await TemporalServer.start({
      cliPath: inject('temporalCliPath'),
      dbFile: join(stateDir, 'temporal.sqlite'),
      logFile: join(logDir, 'temporal.log'),
      cwd: stateDir,
    });
    const receiver = await FaultReceiver.start();
    return new FaultStack(name, logDir, stateDir, database, db, temporal, receiver);
  }

  /** host and port of the scenario database, for a proxy in front of it. */
  get databaseTarget(): { host: string; port: number } {
    const url = new URL(this.database.url);
    return { host: url.hostname, port: Number(url.port || 5432) };
  }

  /** The scenario database URL with its host and port replaced (to go through a proxy). */
  databaseUrlVia(port: number): string {
    const url = new URL(this.database.url);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  }

  async startApi(options: ServiceOptions = {}): Promise<ApiProcess> {
    const port = await findFreePort();
    const child = this.spawn('api', 'dist/src/main.js', port, { API_KEYS: this.apiKey }, options);
    const api = new ApiProcess(child, port, this.apiKey);
    await child.waitUntil('ready (GET /ready answered 200)', async () => (await fetch(`${api.baseUrl}/ready`, { signal: AbortSignal.timeout(5_000) })).status === 200, START_TIMEOUT_MS);
    // The scenarios' rows live in one account; PUT is idempotent, so every API start may ask for it.
    const account = await api.request('PUT', `/v1/accounts/${FAULT_ACCOUNT}`, { name: 'fault suite', enabled: true });
    if (account.status !== 201 && account.status !== 200) throw new Error(`creating the fault account: ${account.status} ${JSON.stringify(account.body)}`);
    return api;
  }

  async startWorker(options: ServiceOptions = {}): Promise<ManagedProcess> {
    const port = await findFreePort();
    const child = this.spawn('worker', 'dist/src/worker.js', port, {}, options);
    // The worker serves /metrics only after it has created its Temporal worker and started polling.
    const metrics = `http://127.0.0.1:${port}/metrics`;
    await child.waitUntil('polling (GET /metrics answered 200)', async () => (await fetch(metrics, { signal: AbortSignal.timeout(5_000) })).status === 200, START_TIMEOUT_MS);
    return child;
  }

  /** `/v1/accounts/<the stack's account>` + `path`: where the scenarios' tenant routes live. */
  tenant(path: string): string {
    return `/v1/accounts/${FAULT_ACCOUNT}${path}`;
  }

  /** A destination on this stack's receiver under its own path; every canonical event is mapped. */
  async createDestination(api: ApiProcess, label: string, fields: Record<string, unknown> = {}): Promise<{ id: string; path: string }> {
    const path = `/${this.name}/${label}`;
    const response = await api.request('POST', this.tenant('/destinations'), {
      name: `${this.name} ${label}`,
      url: `${this.receiver.url}${path}`,
      event_map: { contact: 'Lead', subscribed: 'Subscribe', registration: 'CompleteRegistration', deposit: 'Purchase' },
      timeout_ms: 5000,
      retry_policy: { initial_interval_ms: 200, max_interval_ms: 1000, max_age_ms: 600_000 },
      ...fields,
    });
    if (response.status !== 201) throw new Error(`creating destination ${label}: ${response.status} ${JSON.stringify(response.body)}`);
    return { id: response.body.id, path };
  }

  async deleteDestination(api: ApiProcess, id: string): Promise<void> {
    const response = await api.request('DELETE', this.tenant(`/destinations/${id}`));
    if (response.status !== 204) throw new Error(`deleting destination ${id}: ${response.status}`);
  }

  /** A Temporal client on this stack's server (for checks on workflow runs). */
  async temporalClientFor(): Promise<Client> {
    this.temporalClient ??= new Client({ connection: await Connection.connect({ address: this.temporal.address }) });
    return this.temporalClient;
  }

  /**
   * Waits until no delivery workflow is still running (every one Completed, Failed or Canceled)
   * and returns how many still run when the time is up.
   */
  async runningWorkflowsAfter(timeoutMs: number): Promise<number> {
    const client = await this.temporalClientFor();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { count } = await client.workflow.count('ExecutionStatus="Running"');
      if (count === 0 || Date.now() > deadline) return count;
      await sleep(500);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((child) => child.kill('SIGKILL')));
    await this.temporalClient?.connection.close().catch(() => undefined);
    await this.temporal.stop('SIGKILL');
    await this.receiver.close();
    await this.db.end().catch(() => undefined);
    await this.database.drop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  private spawn(role: 'api' | 'worker', entry: string, port: number, roleEnv: Record<string, string>, options: ServiceOptions): ManagedProcess {
    this.starts += 1;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...SERVICE_ENV,
      DATABASE_URL: options.databaseUrl ?? this.database.url,
      TEMPORAL_ADDRESS: options.temporalAddress ?? this.temporal.address,
      // The API serves on PORT, a worker its /metrics on METRICS_PORT.
      PORT: String(port),
      METRICS_PORT: String(port),
      ...roleEnv,
      ...options.env,
    };
    const name = `${role}#${this.starts}`;
    const managed = ManagedProcess.start(name, process.execPath, ['--enable-source-maps', '--import', DNS_SHIM, entry], {
      env,
      cwd: ROOT,
      logFile: join(this.logDir, `${name.replace('#', '-')}.log`),
    });
    this.processes.push(managed);
    return managed;
  }
}

/** A deposit event with a stable id, as a producer would send it. */
export function depositEvent(id: string, index: number): Record<string, unknown> {
  return {
    id,
    canonical: 'deposit',
    uid: `uid-${index % 50}`,
    occurred_at_ms: 1_765_432_100_000 + index,
    data: { value: `${(index % 997) + 1}.${String(index % 100).padStart(2, '0')}`, currency: index % 2 === 0 ? 'USD' : 'EUR' },
  };
}

export interface SendResult {
  event: Record<string, unknown>;
  response: ApiResponse;
}

/** Sends events with a bounded number in flight, like a producer's batch; never throws. */
export async function sendEvents(api: ApiProcess, events: Array<Record<string, unknown>>, concurrency: number): Promise<SendResult[]> {
  const results: SendResult[] = new Array(events.length);
  let next = 0;
  const lane = async () => {
    while (next < events.length) {
      const index = next++;
      const event = events[index]!;
      results[index] = { event, response: await api.request('POST', `/v1/accounts/${FAULT_ACCOUNT}/events`, event) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, lane));
  return results;
}

/** The producer's view of a batch: what was acknowledged (202), with the deliveries answered. */
export function acknowledged(results: SendResult[]): AcceptedEvent[] {
  return results
    .filter((result) => result.response.status === 202)
    .map((result) => ({ id: String(result.event.id), deliveries: result.response.body.deliveries }));
}

/** "3 × 503, 2 × ECONNRESET" */
export function describeOutcomes(results: SendResult[]): string {
  const counts = new Map<string, number>();
  for (const { response } of results) {
    const key = response.status === 0 ? (response.error ?? 'no answer') : String(response.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].map(([key, count]) => `${count} × ${key}`).join(', ');
}
