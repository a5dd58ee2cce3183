/** What the peer's producer puts on the queue and its sender reads. */
export interface WebhookJob {
  url: string;
  eventId: string;
  body: string;
  secret: string;
}

/** Every job: 10 attempts with exponential backoff from 1 s; finished jobs are removed from Redis. */
export const WEBHOOK_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: 1_000,
} as const;

export function redisConnection(redisUrl: string): { host: string; port: number } {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/** The sender's stalled-job settings, in its `ready` message: BullMQ's defaults, since the peer sets none of them. */
export interface PeerWorkerSettings {
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
}
