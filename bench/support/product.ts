import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { findFreePort } from '../../src/common/free-port.js';
import { spawnNode, waitForHttp, type BenchChild } from './processes.js';

/**
 * glibc's allocator settings the worker is deployed with (Dockerfile, docker-compose.yml,
 * `npm run start:worker`): without them a burst of attempts leaves its freed native memory in
 * per-thread arenas rather than returning it, which the backlog phase reads as growth.
 */
const WORKER_MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' };

/** The product as production runs it: `node dist/src/main.js` and `node dist/src/worker.js`. */
export interface Product {
  api: BenchChild;
  worker: BenchChild;
  apiUrl: string;
  workerMetricsUrl: string;
  apiKey: string;
  /** The account every benchmark destination, click and event lives in. */
  accountId: string;
  /** `/v1/accounts/<account>` + `path`: where a tenant route of the benchmark's account lives. */
  tenant(path: string): string;
  taskQueue: string;
  /** Keep-alive connections to the API, as many as the load's concurrency. */
  http: Pool;
  request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Stops the worker and starts it again with these variables over the usual ones (same port, same task queue). */
  restartWorker(extraEnv: Record<string, string>): Promise<void>;
  /**
   * Starts one more API and one more worker of this product (same database, Temporal, task queue
   * and API key; ports of their own; logs `api-<name>.log`, `worker-<name>.log`), for the scale-out.
   */
  addProcesses(name: string): Promise<ProcessPair>;
  stop(): Promise<void>;
}

/** An API and a worker process added to a running product (`Product.addProcesses`). */
export interface ProcessPair {
  api: BenchChild;
  worker: BenchChild;
  apiUrl: string;
  workerMetricsUrl: string;
  request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface StartProductOptions {
  databaseUrl: string;
  temporalAddress: string;
  logDir: string;
  concurrency: number;
  runId: string;
}

/** A file of the build output (dist/), from dist/bench/support/. */
const dist = (path: string) => new URL(`../../${path}`, import.meta.url);

export async function startProduct({ databaseUrl, temporalAddress, logDir, concurrency, runId }: StartProductOptions): Promise<Product> {
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const taskQueue = `bench-deliveries-${runId}`;
  const [apiPort, workerPort] = [await findFreePort(), await findFreePort()];
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_KEYS: apiKey,
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    RATE_LIMIT_PER_MINUTE: '0',
  };
  // Same flags as `npm run start:api` / `start:worker`, plus the counting preload.
  const execArgv = ['--enable-source-maps', '--import', dist('bench/support/instrument.js').href];
  const spawnWorker = (name: string, port: number, extraEnv: Record<string, string> = {}) =>
    spawnNode({ name, script: fileURLToPath(dist('src/worker.js')), env: { ...env, ...WORKER_MALLOC_ENV, PORT: String(port), METRICS_PORT: String(port), ...extraEnv }, execArgv, logDir });
  const spawnApi = (name: string, port: number) => spawnNode({ name, script: fileURLToPath(dist('src/main.js')), env: { ...env, PORT: String(port) }, execArgv, logDir });
  const worker = spawnWorker('worker', workerPort);
  const api = spawnApi('api', apiPort);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
  await Promise.all([waitForHttp(`${apiUrl}/ready`, api), waitForHttp(workerMetricsUrl, worker)]);

  const { http, request } = apiClient(apiUrl, apiKey, concurrency);
  const accountId = `bench-${runId}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64);
  const account = await request('PUT', `/v1/accounts/${accountId}`, { name: 'benchmark', enabled: true });
  if (account.status !== 201) throw new Error(`creating the benchmark account answered ${account.status}`);
  const product: Product = {
    api,
    worker,
    apiUrl,
    workerMetricsUrl,
    apiKey,
    accountId,
    tenant: (path) => `/v1/accounts/${accountId}${path}`,
    taskQueue,
    http,
    request,
    async restartWorker(extraEnv) {
      await product.worker.stop();
      const restarted = spawnWorker('worker', workerPort, extraEnv);
      await waitForHttp(workerMetricsUrl, restarted);
      product.worker = restarted;
    },
    async addProcesses(name) {
      const [pairApiPort, pairWorkerPort] = [await findFreePort(), await findFreePort()];
      const pairWorker = spawnWorker(`worker-${name}`, pairWorkerPort);
      const pairApi = spawnApi(`api-${name}`, pairApiPort);
      const pairApiUrl = `http://127.0.0.1:${pairApiPort}`;
      const pairMetricsUrl = `http://127.0.0.1:${pairWorkerPort}/metrics`;
      await Promise.all([waitForHttp(`${pairApiUrl}/ready`, pairApi), waitForHttp(pairMetricsUrl, pairWorker)]);
      const client = apiClient(pairApiUrl, apiKey, concurrency);
      return {
        api: pairApi,
        worker: pairWorker,
        apiUrl: pairApiUrl,
        workerMetricsUrl: pairMetricsUrl,
        request: client.request,
        async stop() {
          await client.http.close();
          await Promise.all([pairApi.stop(), pairWorker.stop()]);
        },
      };
    },
    async stop() {
      await http.close();
      await Promise.all([api.stop(), product.worker.stop()]);
    },
  };
  return product;
}

/** Keep-alive connections to one API process (as many as the load's concurrency), authenticated with the benchmark's key. */
function apiClient(apiUrl: string, apiKey: string, connections: number): Pick<Product, 'http' | 'request'> {
  const http = new Pool(apiUrl, { connections, keepAliveTimeout: 60_000 });
  const request = async <T>(method: string, path: string, body?: unknown) => {
    const response = await http.request({
      method: method as 'GET',
      path,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  return { http, request };
}

export interface Counters {
  sql: Record<string, number>;
  grpc: Record<string, number>;
}

export async function readCounters(child: BenchChild): Promise<Counters> {
  const reply = await child.call<Counters>({ type: 'bench:counters' });
  return { sql: reply.sql, grpc: reply.grpc };
}

/** after − before, per key, dropping zeros. */
export function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

/** Counters from the worker's /metrics (Prometheus text), summed by metric name and selected labels. */
export async function readPrometheus(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\deE.]+|NaN)/.exec(line);
    if (!match) continue;
    const key = `${match[1]}${match[2] ?? ''}`;
    values.set(key, (values.get(key) ?? 0) + Number(match[3]));
  }
  return values;
}

/** Sum of every series of one metric (all label sets), e.g. temporal_sticky_cache_miss. */
export function metricSum(values: Map<string, number>, name: string): number | undefined {
  let total: number | undefined;
  for (const [key, value] of values) {
    if (key === name || key.startsWith(`${name}{`) || key.startsWith(`${name}_total{`) || key === `${name}_total`) total = (total ?? 0) + value;
  }
  return total;
}

/**
 * Mean of a histogram over an interval, e.g. temporal_activity_schedule_to_start_latency between
 * two reads: Δ(all `_sum` series) ÷ Δ(all `_count` series). Undefined when nothing was observed.
 */
export function histogramMean(after: Map<string, number>, before: Map<string, number>, name: string): number | undefined {
  const total = (values: Map<string, number>, suffix: string) => {
    let sum = 0;
    for (const [key, value] of values) if (key === `${name}${suffix}` || key.startsWith(`${name}${suffix}{`)) sum += value;
    return sum;
  };
  const count = total(after, '_count') - total(before, '_count');
  return count > 0 ? (total(after, '_sum') - total(before, '_sum')) / count : undefined;
}
