import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { redisConnection, type PeerWorkerSettings, type WebhookJob } from './webhook-job.js';

/**
 * The peer: what a Node team would otherwise write. A BullMQ worker process that signs and POSTs
 * each job's body; BullMQ retries with exponential backoff on 408, 429, 5xx and network errors,
 * and gives up at once on any other status. Env: PEER_QUEUE, REDIS_URL, PEER_CONCURRENCY.
 */
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

async function send(job: Job<WebhookJob>): Promise<void> {
  const { url, eventId, body, secret } = job.data;
  const now = new Date();
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'peer-bullmq/1',
      'webhook-id': eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(eventId, now, body),
    },
    body,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  await response.body.dump();
  const status = response.statusCode;
  if (status >= 200 && status < 300) return;
  if (status === 408 || status === 429 || status >= 500) throw new Error(`receiver answered ${status}`);
  throw new UnrecoverableError(`receiver answered ${status}`);
}

const worker = new Worker<WebhookJob>(process.env.PEER_QUEUE!, send, {
  connection: redisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  concurrency: Number(process.env.PEER_CONCURRENCY ?? 64),
});
await worker.waitUntilReady();
// What BullMQ made of the options above (its defaults for the rest): the fault runs report the
// stalled-job settings the peer actually ran with rather than restating BullMQ's documentation.
const { lockDuration, stalledInterval, maxStalledCount } = worker.opts;
const settings: PeerWorkerSettings = { lockDuration, stalledInterval, maxStalledCount };
process.send?.({ type: 'ready', settings });
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
