import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cpuSnapshot, cpuUsed, pidsMatching, type ProcessGroups } from '../support/cpu.js';
import { redisConnection, WEBHOOK_JOB_OPTIONS, type WebhookJob } from '../peers/webhook-job.js';
import { spawnNode } from '../support/processes.js';
import { phase, ticker } from '../support/progress.js';
import type { Sink } from '../support/sink-client.js';
import { nowMs, percentile, perSecond, runConcurrently, waitFor } from '../support/stats.js';

export interface PeerResult {
  jobs: number;
  concurrency: number;
  workerConcurrency: number;
  enqueuePerSecond: number;
  deliveriesPerSecond: number;
  arrivalP50Ms: number;
  arrivalP99Ms: number;
  redisVersion: string;
  cpuMsPerDelivery: Record<string, number>;
}

/** Redis answers PING within 2 s, else the peer is skipped (and the report says so). */
export async function redisReachable(redisUrl: string): Promise<string | undefined> {
  const redis = new Redis({ ...redisConnection(redisUrl), lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * The peer (bench/peers): N jobs added to a BullMQ queue at concurrency C from this process,
 * sent by a BullMQ worker process to the same sink, each timed from its enqueue to its arrival.
 */
export async function peerRun(options: {
  sink: Sink;
  body: (eventId: string) => string;
  jobs: number;
  concurrency: number;
  workerConcurrency: number;
  redisUrl: string;
  redisVersion: string;
  runId: string;
  logDir: string;
  cpuGroups: ProcessGroups;
}): Promise<PeerResult> {
  const { sink, jobs, concurrency, workerConcurrency, redisUrl, runId, logDir } = options;
  phase(`peer: BullMQ, ${jobs} jobs enqueued at concurrency ${concurrency}, worker concurrency ${workerConcurrency}`);
  const queueName = `bench-webhooks-${runId}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const queue = new Queue<WebhookJob>(queueName, { connection: redisConnection(redisUrl) });
  const worker = spawnNode({
    name: 'peer-bullmq-sender',
    script: fileURLToPath(new URL('../peers/bullmq-sender.js', import.meta.url)),
    env: { PEER_QUEUE: queueName, REDIS_URL: redisUrl, PEER_CONCURRENCY: String(workerConcurrency) },
    execArgv: ['--enable-source-maps'],
    logDir,
  });
  try {
    await worker.nextMessage('ready', 30_000);
    const enqueue = (eventId: string) =>
      queue.add('webhook', { url: `${sink.url}/peer`, eventId, body: options.body(eventId), secret }, { ...WEBHOOK_JOB_OPTIONS, jobId: eventId });

    await sink.reset();
    await runConcurrently(concurrency, concurrency, (i) => enqueue(`peer-${runId}-warmup-${i}`).then(() => undefined));
    await waitFor(async () => (await sink.stats()).ids >= concurrency, 60_000, 'peer warm-up');
    await sink.reset();

    const groups = { ...options.cpuGroups, 'peer worker': () => [worker.pid], redis: () => pidsMatching('redis-server') };
    const cpuBefore = cpuSnapshot(groups);
    const enqueuedAt = new Map<string, number>();
    let enqueued = 0;
    const stop = ticker(async () => `${enqueued}/${jobs} enqueued, ${(await sink.stats()).ids}/${jobs} delivered`);
    const t0 = nowMs();
    await runConcurrently(jobs, concurrency, async (i) => {
      const eventId = `peer-${runId}-${i}`;
      enqueuedAt.set(eventId, nowMs());
      await enqueue(eventId);
      enqueued += 1;
    });
    const enqueueDone = nowMs();
    await waitFor(async () => (await sink.stats()).ids >= jobs, 300_000, 'peer deliveries at the sink', 50);
    stop();
    const cpu = cpuUsed(cpuBefore, cpuSnapshot(groups));
    const arrivals = await sink.arrivals();
    const latencies: number[] = [];
    let lastArrival = 0;
    for (const [eventId, start] of enqueuedAt) {
      const arrival = arrivals.get(eventId)!;
      latencies.push(arrival - start);
      lastArrival = Math.max(lastArrival, arrival);
    }
    return {
      jobs,
      concurrency,
      workerConcurrency,
      enqueuePerSecond: perSecond(jobs, enqueueDone - t0),
      deliveriesPerSecond: perSecond(jobs, lastArrival - t0),
      arrivalP50Ms: percentile(latencies, 50),
      arrivalP99Ms: percentile(latencies, 99),
      redisVersion: options.redisVersion,
      cpuMsPerDelivery: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / jobs])),
    };
  } finally {
    await worker.stop();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
