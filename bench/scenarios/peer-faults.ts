import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisConnection, WEBHOOK_JOB_OPTIONS, type PeerWorkerSettings, type WebhookJob } from '../peers/webhook-job.js';
import { startCopyReceiver, type CopyLedger, type CopyReceiver } from '../support/copy-receiver.js';
import { spawnNode, type BenchChild } from '../support/processes.js';
import { note, phase, ticker } from '../support/progress.js';
import { ownedRedis, type OwnedRedis } from '../support/redis-server.js';
import { nowMs, runConcurrently, sleep, sleepUntil, waitFor } from '../support/stats.js';

/** Jobs of the worker SIGKILL run: as many as the sender's default concurrency takes at once. */
const WORKER_KILL_JOBS = 200;
/** How long the receiver holds each first copy before the kill: long enough to kill with every attempt open, shorter than the sender's 15 s headersTimeout. */
const WORKER_KILL_HOLD_MS = 10_000;
/** BullMQ finds a dead worker's jobs only through its stalled-job checker: two of its 30 s intervals and the 30 s lock, with room to spare. */
const WORKER_KILL_DEADLINE_MS = 150_000;

/** The Redis restart run: an open-loop producer of this many jobs at this rate (6 s of traffic) … */
const REDIS_RESTART_JOBS = 1_500;
const REDIS_RESTART_RATE_PER_SECOND = 250;
/** … to a receiver that takes 500 ms per webhook, slower than the producer, so that a backlog builds … */
const REDIS_RESTART_HOLD_MS = 500;
/**
 * … and Redis dies once this many jobs wait in it beyond those the sender has taken (its slots
 * hold the rest in memory, which a Redis restart does not touch), about 2 s in; or, with a sender
 * of more slots than the backlog ever reaches, once this many enqueues were acknowledged …
 */
const REDIS_RESTART_WAITING_AT_KILL = 100;
const REDIS_RESTART_KILL_BY_ACCEPTED = 900;
/** … for this long before the same server starts again on the same port and data directory. */
const REDIS_RESTART_OUTAGE_MS = 2_000;
/** A job the restarted Redis still holds as active with its old lock waits for the stalled-job checker too. */
const REDIS_RESTART_DEADLINE_MS = 90_000;

/** The queue counts as drained once nothing is pending, nothing is held and no copy arrived for this long. */
const QUIET_MS = 1_000;
const PENDING_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** What Redis and the receiver held at the moment of the fault. */
export interface PeerFaultMoment {
  accepted: number;
  /** Copies that had reached the receiver. */
  atReceiver: number;
  /** Copies the receiver was holding open (attempts in flight at the receiver). */
  held: number;
  /** BullMQ's counts just before the fault. */
  waiting: number;
  active: number;
  delayed: number;
}

export interface PeerFaultRun {
  fault: 'worker-sigkill' | 'redis-restart';
  /** The redis-server arguments that set its persistence, as typed on a command line. */
  persistence: string;
  /** Enqueues the producer made. */
  jobs: number;
  /** Enqueues Redis acknowledged: the jobs the producer relies on. */
  accepted: number;
  /** Enqueues that failed (the producer knows) and that never settled by the deadline. */
  refused: number;
  unsettled: number;
  /** Jobs the producer saw refused that reached the receiver anyway. */
  refusedButReceived: number;
  ledger: CopyLedger;
  atFault: PeerFaultMoment;
  /** How the fault was repaired, and how long after the fault. */
  repair: string;
  faultToRepairMs: number;
  /** Repair → drained (nothing pending in the queue, nothing held, no copy for QUIET_MS); absent when the deadline passed first. */
  drainSeconds?: number;
  deadlineSeconds: number;
  /** BullMQ's pending counts when the run ended (all 0 when drained). */
  leftInQueue: Record<string, number>;
  /** Jobs in BullMQ's failed set at the end: visibly failed rather than silently gone. */
  failedInQueue: number;
  /** The receiver's first-copy hold during the traffic. */
  holdMs: number;
  /** Open-loop enqueue rate of the Redis restart run. */
  ratePerSecond?: number;
  /** Whether the sender that lived through the Redis restart was still running at the end. */
  senderSurvived?: boolean;
  /** Jobs the sender finished whose completion Redis refused for want of the job (its log's "Missing key for job … moveToFinished"). */
  completionsNotRecorded?: number;
  /** 'error' events of the producer's queue (its Redis connection) during the run. */
  producerErrors: number;
}

/** A row of docs/RELIABILITY.md's table, quoted as it stands there. */
export interface ProductFaultRow {
  id: string;
  scenario: string;
  events: string;
  delivered: string;
  lost: string;
  extraCopies: string;
  recovery: string;
}

export interface ProductFaultReference {
  source: string;
  /** Its "Last run: …" line. */
  lastRun?: string;
  rows: ProductFaultRow[];
}

export interface PeerFaultsResult {
  redisServer: string;
  workerConcurrency: number;
  /** The stalled-job settings the sender reported (BullMQ's defaults: the peer sets none). */
  senderSettings: PeerWorkerSettings;
  runs: PeerFaultRun[];
  productReference: ProductFaultReference;
}

/** The product's scenarios that match the peer's faults: a worker killed mid-attempt, and its durable store (PostgreSQL) going away. */
const PRODUCT_ANALOGUES = ['1a', '3a', '3b'];

/**
 * Reads the product's rows for the analogous faults from docs/RELIABILITY.md, which the fault
 * suite regenerates: the report quotes them, it does not measure them.
 */
export function productFaultReference(root: string): ProductFaultReference {
  const source = 'docs/RELIABILITY.md';
  const file = join(root, source);
  if (!existsSync(file)) return { source, rows: [] };
  const text = readFileSync(file, 'utf8');
  const lastRun = /^Last run: (.*)$/m.exec(text)?.[1]?.trim().replace(/\.$/, '');
  const rows: ProductFaultRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | # | scenario | events | delivered | lost | extra copies | recovery time | check |
    if (cells.length < 9 || !PRODUCT_ANALOGUES.includes(cells[1]!)) continue;
    const [, id, scenario, events, delivered, lost, extraCopies, recovery] = cells as [string, string, string, string, string, string, string, string];
    rows.push({ id, scenario, events, delivered, lost, extraCopies, recovery });
  }
  return { source, ...(lastRun ? { lastRun } : {}), rows };
}

interface Sender {
  child: BenchChild;
  settings: PeerWorkerSettings;
}

async function startSender(name: string, queueName: string, redisUrl: string, concurrency: number, logDir: string): Promise<Sender> {
  const child = spawnNode({
    name,
    script: fileURLToPath(new URL('../peers/bullmq-sender.js', import.meta.url)),
    env: { PEER_QUEUE: queueName, REDIS_URL: redisUrl, PEER_CONCURRENCY: String(concurrency) },
    execArgv: ['--enable-source-maps'],
    logDir,
  });
  const ready = await child.nextMessage<{ settings?: PeerWorkerSettings }>('ready', 30_000);
  return { child, settings: ready.settings ?? {} };
}

/** BullMQ logs (console.error) each completion it could not record because Redis no longer had the job. */
function completionsNotRecorded(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, 'utf8').split('\n').filter((line) => /^Error: Missing key for job \S+ moveToFinished/.test(line)).length;
}

async function pendingCounts(queue: Queue<WebhookJob>): Promise<Record<string, number>> {
  return queue.getJobCounts(...PENDING_STATES);
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Polls until nothing is pending in the queue, the receiver holds nothing and no copy has arrived
 * for QUIET_MS (a sender can still hold jobs in memory that Redis no longer lists); returns the
 * instant that quiet began, or undefined at the deadline.
 */
async function waitDrained(queue: Queue<WebhookJob>, receiver: CopyReceiver, deadlineAt: number): Promise<{ drainedAt?: number; left: Record<string, number> }> {
  let quietSince: number | undefined;
  let copiesWhenQuiet = -1;
  for (;;) {
    const left = await pendingCounts(queue);
    const now = nowMs();
    const idle = total(left) === 0 && receiver.open() === 0;
    const copies = receiver.received();
    if (!idle) {
      quietSince = undefined;
    } else if (quietSince === undefined || copies !== copiesWhenQuiet) {
      // Idle now, or idle again after a copy that came and was answered between two polls.
      quietSince = now;
      copiesWhenQuiet = copies;
    } else if (now - quietSince >= QUIET_MS) {
      return { drainedAt: quietSince, left };
    }
    if (now > deadlineAt) return { left };
    await sleep(100);
  }
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}

async function closeQuietly(queue: Queue<WebhookJob>): Promise<void> {
  // A queue whose Redis is gone would wait for it forever; the benchmark does not.
  await settledWithin(queue.close(), 5_000);
}

/**
 * The peer under two faults, each against a redis-server of the phase's own on a free loopback
 * port, with every copy counted by a receiver in this process: the BullMQ sender SIGKILLed with
 * its attempts in flight, and Redis SIGKILLed and restarted mid-flow (without persistence, the
 * peer's default, and with an append-only file).
 */
export async function peerFaultsRun(options: { redisServer: string; workerConcurrency: number; concurrency: number; body: (eventId: string) => string; runId: string; logDir: string; root: string }): Promise<PeerFaultsResult> {
  const runs: PeerFaultRun[] = [];
  let senderSettings: PeerWorkerSettings = {};
  // The peer's default durability (nothing on disk), and an append-only file fsynced once a second.
  const noPersistence = ['--save', '', '--appendonly', 'no'];
  const appendOnly = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];

  phase(`peer-faults: BullMQ sender SIGKILL with ${WORKER_KILL_JOBS} attempts in flight (redis-server ${options.redisServer} of its own, no persistence)`);
  {
    const { run, settings } = await workerKillRun({ ...options, persistence: noPersistence });
    runs.push(run);
    senderSettings = settings;
  }
  for (const [name, persistence] of [
    ['none', noPersistence],
    ['aof', appendOnly],
  ] as const) {
    phase(`peer-faults: Redis SIGKILL + restart mid-flow, ${describePersistence(persistence)}`);
    runs.push(await redisRestartRun({ ...options, persistence, name }));
  }
  return { redisServer: options.redisServer, workerConcurrency: options.workerConcurrency, senderSettings, runs, productReference: productFaultReference(options.root) };
}

/** The persistence arguments as one would type them: `--save "" --appendonly no`. */
export function describePersistence(args: readonly string[]): string {
  return args.map((arg) => (arg === '' ? '""' : arg)).join(' ');
}

interface RunOptions {
  workerConcurrency: number;
  concurrency: number;
  body: (eventId: string) => string;
  runId: string;
  logDir: string;
  persistence: readonly string[];
}

function jobFor(receiver: CopyReceiver, body: (eventId: string) => string, secret: string, eventId: string): WebhookJob {
  return { url: `${receiver.url}/peer-faults`, eventId, body: body(eventId), secret };
}

/**
 * Fault 1: the receiver holds every first copy; once the sender has taken every job and the held
 * copies stop growing, it gets SIGKILL and a new sender starts on the same queue. From then on the
 * receiver answers every copy at once, so the time to drain is BullMQ's own.
 */
async function workerKillRun(options: RunOptions): Promise<{ run: PeerFaultRun; settings: PeerWorkerSettings }> {
  const { runId, logDir, persistence } = options;
  const receiver = await startCopyReceiver();
  const redis = await ownedRedis({ name: 'peer-faults-redis-worker-kill', dataDir: join(logDir, 'peer-faults-redis-worker-kill'), logDir, persistenceArgs: persistence });
  const senders: Sender[] = [];
  let queue: Queue<WebhookJob> | undefined;
  let producerErrors = 0;
  try {
    await redis.start();
    note(`redis-server pid ${redis.pid()} at ${redis.url} (${describePersistence(persistence)})`);
    const queueName = `peer-faults-${runId}-worker-kill`;
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    queue = new Queue<WebhookJob>(queueName, { connection: redisConnection(redis.url) });
    queue.on('error', () => (producerErrors += 1));
    receiver.holdFirstCopies(WORKER_KILL_HOLD_MS);
    const first = await startSender('peer-faults-sender-1', queueName, redis.url, options.workerConcurrency, logDir);
    senders.push(first);

    const accepted = new Set<string>();
    await runConcurrently(WORKER_KILL_JOBS, options.concurrency, async (i) => {
      const eventId = `peer-faults-${runId}-kill-${i}`;
      await queue!.add('webhook', jobFor(receiver, options.body, secret, eventId), { ...WEBHOOK_JOB_OPTIONS, jobId: eventId });
      accepted.add(eventId);
    });

    // In flight: the sender has taken every job it can (nothing left waiting, or all its slots
    // busy) and the held copies have stopped growing (its HTTP pool caps how many reach the
    // receiver; the rest wait inside the sender).
    let held = -1;
    let heldSince = nowMs();
    await waitFor(
      async () => {
        const counts = await queue!.getJobCounts('wait', 'prioritized', 'active');
        const now = nowMs();
        if (receiver.open() !== held) {
          held = receiver.open();
          heldSince = now;
        }
        const taken = (counts.wait ?? 0) + (counts.prioritized ?? 0) === 0 || (counts.active ?? 0) >= options.workerConcurrency;
        return taken && held > 0 && now - heldSince >= 500;
      },
      WORKER_KILL_HOLD_MS - 2_000,
      'the sender to take every job and hold its attempts open at the receiver',
      50,
    );
    const counts = await queue.getJobCounts('wait', 'active', 'delayed');
    const atFault: PeerFaultMoment = { accepted: accepted.size, atReceiver: receiver.received(), held: receiver.open(), waiting: counts.wait ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
    receiver.holdFirstCopies(0);
    const killedAt = nowMs();
    first.child.child.kill('SIGKILL');
    await first.child.exited;
    await first.child.stop();
    note(`sender SIGKILLed with ${atFault.active} jobs active in Redis, ${atFault.held} attempts held open at the receiver; starting a new sender`);

    const second = await startSender('peer-faults-sender-2', queueName, redis.url, options.workerConcurrency, logDir);
    senders.push(second);
    const repairedAt = nowMs();
    const stop = ticker(() => `${receiver.ids()}/${accepted.size} jobs at the receiver, ${receiver.received()} copies, waiting for BullMQ's stalled-job checker`);
    const { drainedAt, left } = await waitDrained(queue, receiver, repairedAt + WORKER_KILL_DEADLINE_MS);
    stop();
    const failed = (await queue.getJobCounts('failed')).failed ?? 0;
    return {
      settings: first.settings,
      run: {
        fault: 'worker-sigkill',
        persistence: describePersistence(persistence),
        jobs: WORKER_KILL_JOBS,
        accepted: accepted.size,
        refused: 0,
        unsettled: 0,
        refusedButReceived: 0,
        ledger: receiver.ledger(accepted),
        atFault,
        repair: 'new sender ready',
        faultToRepairMs: repairedAt - killedAt,
        ...(drainedAt !== undefined ? { drainSeconds: (drainedAt - repairedAt) / 1000 } : {}),
        deadlineSeconds: WORKER_KILL_DEADLINE_MS / 1000,
        leftInQueue: left,
        failedInQueue: failed,
        holdMs: WORKER_KILL_HOLD_MS,
        producerErrors,
      },
    };
  } finally {
    for (const sender of senders) await sender.child.stop();
    if (queue) await closeQuietly(queue);
    await redis.stop();
    await receiver.close();
  }
}

/**
 * Fault 2: jobs go in open loop to a receiver slower than the producer; once a backlog waits in
 * Redis, the phase's redis-server gets SIGKILL and starts again on the same port and data
 * directory after REDIS_RESTART_OUTAGE_MS. The sender and the producer are not restarted:
 * they reconnect by themselves (or not, which the report would show).
 */
async function redisRestartRun(options: RunOptions & { name: string }): Promise<PeerFaultRun> {
  const { runId, logDir, persistence, name: label } = options;
  const receiver = await startCopyReceiver();
  const redis: OwnedRedis = await ownedRedis({ name: `peer-faults-redis-restart-${label}`, dataDir: join(logDir, `peer-faults-redis-restart-${label}`), logDir, persistenceArgs: persistence });
  let sender: Sender | undefined;
  let queue: Queue<WebhookJob> | undefined;
  let producerErrors = 0;
  let redisUp = false;
  try {
    await redis.start();
    redisUp = true;
    note(`redis-server pid ${redis.pid()} at ${redis.url} (${describePersistence(persistence)})`);
    const queueName = `peer-faults-${runId}-redis-${label}`;
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    queue = new Queue<WebhookJob>(queueName, { connection: redisConnection(redis.url) });
    queue.on('error', () => (producerErrors += 1));
    receiver.holdFirstCopies(REDIS_RESTART_HOLD_MS);
    sender = await startSender(`peer-faults-sender-redis-${label}`, queueName, redis.url, options.workerConcurrency, logDir);

    const accepted = new Set<string>();
    const refused = new Set<string>();
    const settled: Array<Promise<void>> = [];
    let atFault: PeerFaultMoment | undefined;
    let killedAt = 0;
    let repairedAt = 0;
    const fault = (async () => {
      await waitFor(
        async () => accepted.size >= REDIS_RESTART_KILL_BY_ACCEPTED || ((await queue!.getJobCounts('wait')).wait ?? 0) >= REDIS_RESTART_WAITING_AT_KILL,
        60_000,
        `${REDIS_RESTART_WAITING_AT_KILL} jobs waiting in Redis or ${REDIS_RESTART_KILL_BY_ACCEPTED} acknowledged enqueues`,
        25,
      );
      const counts = await queue!.getJobCounts('wait', 'active', 'delayed');
      atFault = { accepted: accepted.size, atReceiver: receiver.received(), held: receiver.open(), waiting: counts.wait ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
      killedAt = nowMs();
      redisUp = false;
      await redis.kill();
      note(`redis-server SIGKILLed with ${atFault.accepted} enqueues acknowledged, ${atFault.waiting} jobs waiting and ${atFault.active} active in it, ${atFault.held} copies held at the receiver`);
      await sleep(REDIS_RESTART_OUTAGE_MS - (nowMs() - killedAt));
      await redis.start();
      redisUp = true;
      repairedAt = nowMs();
    })();
    // Awaited after the enqueue loop; until then a failure must not count as an unhandled rejection.
    fault.catch(() => undefined);

    const stop = ticker(() => `${accepted.size} acknowledged, ${refused.size} refused of ${settled.length} enqueues; ${receiver.ids()} jobs at the receiver${redisUp ? '' : ' (Redis down)'}`);
    const startedAt = nowMs();
    for (let i = 0; i < REDIS_RESTART_JOBS; i++) {
      await sleepUntil(startedAt + (i * 1000) / REDIS_RESTART_RATE_PER_SECOND);
      const eventId = `peer-faults-${runId}-redis-${label}-${i}`;
      settled.push(
        queue.add('webhook', jobFor(receiver, options.body, secret, eventId), { ...WEBHOOK_JOB_OPTIONS, jobId: eventId }).then(
          () => void accepted.add(eventId),
          () => void refused.add(eventId),
        ),
      );
    }
    await fault;
    const deadlineAt = repairedAt + REDIS_RESTART_DEADLINE_MS;
    // An enqueue still waiting on a dead connection is neither accepted nor refused: it is counted as unsettled at the deadline.
    await settledWithin(Promise.all(settled), deadlineAt - nowMs());
    const { drainedAt, left } = await waitDrained(queue, receiver, deadlineAt);
    stop();
    const failed = (await queue.getJobCounts('failed')).failed ?? 0;
    const outside = receiver.copiesOutside(accepted);
    return {
      fault: 'redis-restart',
      persistence: describePersistence(persistence),
      jobs: REDIS_RESTART_JOBS,
      accepted: accepted.size,
      refused: refused.size,
      unsettled: REDIS_RESTART_JOBS - accepted.size - refused.size,
      refusedButReceived: outside.ids,
      ledger: receiver.ledger(accepted),
      atFault: atFault!,
      repair: 'Redis answering PING again',
      faultToRepairMs: repairedAt - killedAt,
      ...(drainedAt !== undefined ? { drainSeconds: (drainedAt - repairedAt) / 1000 } : {}),
      deadlineSeconds: REDIS_RESTART_DEADLINE_MS / 1000,
      leftInQueue: left,
      failedInQueue: failed,
      holdMs: REDIS_RESTART_HOLD_MS,
      ratePerSecond: REDIS_RESTART_RATE_PER_SECOND,
      senderSurvived: sender.child.child.exitCode === null && sender.child.child.signalCode === null,
      completionsNotRecorded: completionsNotRecorded(sender.child.logFile),
      producerErrors,
    };
  } finally {
    await sender?.child.stop();
    if (queue) await closeQuietly(queue);
    await redis.stop();
    await receiver.close();
  }
}
