import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admission, AdmissionRequest, BreakerSettings, HealthOutcome, TrafficLimits } from '../contract/traffic-gate.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { TenantDatabase } from '../src/database/tenant-database.js';
import { DestinationRepository } from '../src/destinations/destination.repository.js';
import { PostgresTrafficGate } from '../src/traffic/postgres-traffic-gate.js';
import { TrafficRepository } from '../src/traffic/traffic.repository.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * The traffic gate straight against PostgreSQL, without Temporal or HTTP: how many statements an
 * attempt's admission and release cost, and that the limits hold when several worker processes
 * (here: several connection pools) decide on one destination at once.
 */

/** Statements sent by this process while `work` runs, counted where every TypeORM query goes (as bench/support/instrument.ts does). */
let counting: string[] | undefined;
const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const [first] = args;
  const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
  if (counting && text !== undefined) counting.push(text.replace(/\s+/g, ' ').trim().slice(0, 60));
  return originalQuery.apply(this, args);
} as typeof pg.Client.prototype.query;

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  counting = [];
  try {
    const result = await work();
    return { result, statements: counting };
  } finally {
    counting = undefined;
  }
}

const ACCOUNT = 'gate-test';
const BREAKER: BreakerSettings = { failureThreshold: 3, cooldownMs: 30_000, autoDisableAfterMs: null };
const NO_LIMITS: TrafficLimits = { ratePerSecond: null, maxInFlight: null };

let database: TestDatabase;
/** One pool per simulated worker process. */
let pools: DataSource[] = [];
let gates: PostgresTrafficGate[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pools = await Promise.all([0, 1, 2].map(() => new DataSource(dataSourceOptions({ url: database.url, poolSize: 6 })).initialize()));
  gates = pools.map((pool) => {
    const tenant = new TenantDatabase(pool);
    return new PostgresTrafficGate(new TrafficRepository(pool, tenant), new DestinationRepository(tenant));
  });
  await pools[0]!.query(`INSERT INTO accounts (id, name) VALUES ($1, 'gate test')`, [ACCOUNT]);
});

afterAll(async () => {
  pg.Client.prototype.query = originalQuery as typeof pg.Client.prototype.query;
  await Promise.all(pools.map((pool) => pool.destroy()));
  await database?.drop();
});

async function newDestination(): Promise<string> {
  const [row]: Array<{ id: string }> = await pools[0]!.query(
    `INSERT INTO destinations (account_id, name, url, method, event_map, signing_secret)
     VALUES ($1, 'gate', 'http://127.0.0.1:9/hook', 'POST', '{"contact": "Lead"}', 'whsec_gate') RETURNING id`,
    [ACCOUNT],
  );
  return row!.id;
}

function request(destinationId: string, eventId: string, limits: TrafficLimits, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { destinationId, accountId: ACCOUNT, eventId, workflowId: `delivery-${eventId}`, limits, breaker: BREAKER, leaseMs: 10_000, ...extra };
}

function release(gate: PostgresTrafficGate, destinationId: string, eventId: string, outcome: HealthOutcome = { kind: 'success' }) {
  return gate.release({ destinationId, accountId: ACCOUNT, eventId, outcome, breaker: BREAKER });
}

async function health(destinationId: string): Promise<Record<string, unknown>> {
  const [row]: Array<Record<string, unknown>> = await pools[0]!.query(`SELECT * FROM destination_health WHERE destination_id = $1`, [destinationId]);
  return row!;
}

async function leases(destinationId: string): Promise<number> {
  const [row]: Array<{ n: number }> = await pools[0]!.query(`SELECT count(*)::int AS n FROM destination_leases WHERE destination_id = $1`, [destinationId]);
  return row!.n;
}

describe('statements per attempt', () => {
  /** Admission and release of one attempt to a fresh destination, after a first attempt warmed its health row. */
  async function pair(limits: TrafficLimits, outcome: HealthOutcome = { kind: 'success' }) {
    const destinationId = await newDestination();
    const gate = gates[0]!;
    await gate.admit(request(destinationId, 'warm', limits));
    await release(gate, destinationId, 'warm');
    const admit = await counted(() => gate.admit(request(destinationId, 'e1', limits)));
    const released = await counted(() => release(gate, destinationId, 'e1', outcome));
    return { destinationId, admission: admit.result, admit: admit.statements, release: released.statements };
  }

  it('no limits, breaker closed: one statement to admit, one to release', async () => {
    const { admission, admit, release: released } = await pair(NO_LIMITS);
    console.log('no limits:', { admit, release: released });
    expect(admission).toEqual({ admitted: true, probe: false, delayMs: 0 });
    expect(admit).toHaveLength(1);
    expect(released).toHaveLength(1);
  });

  it('max_in_flight set, breaker closed: one statement to admit, one to release', async () => {
    const { destinationId, admission, admit, release: released } = await pair({ ratePerSecond: null, maxInFlight: 20 });
    console.log('max_in_flight 20:', { admit, release: released });
    expect(admission).toEqual({ admitted: true, probe: false, delayMs: 0 });
    expect(admit).toHaveLength(1);
    expect(released).toHaveLength(1);
    expect(await leases(destinationId)).toBe(0);
  });

  it('rate limit and max_in_flight set: the admission is a transaction, the release one statement', async () => {
    const { admission, admit, release: released } = await pair({ ratePerSecond: 1000, maxInFlight: 20 });
    console.log('rate 1000/s + max_in_flight 20:', { admit, release: released });
    expect(admission).toMatchObject({ admitted: true, probe: false });
    expect(admit).toHaveLength(5);
    expect(released).toHaveLength(1);
  });

  it('max_in_flight reached: held and queued in one statement', async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    await gates[0]!.admit(request(destinationId, 'holder', limits));
    const held = await counted(() => gates[0]!.admit(request(destinationId, 'queued', limits)));
    console.log('max_in_flight reached:', { admit: held.statements });
    expect(held.result).toMatchObject({ admitted: false, reason: 'in_flight_full', exact: true });
    expect(held.statements).toHaveLength(1);
  });

  it('a refusal (4xx), breaker closed: one statement to release', async () => {
    const { admit, release: released } = await pair({ ratePerSecond: null, maxInFlight: 20 }, { kind: 'permanent_failure', reason: 'HTTP 400' });
    console.log('max_in_flight 20, refusal:', { admit, release: released });
    expect(admit).toHaveLength(1);
    expect(released).toHaveLength(1);
  });

  it('a retryable failure: the release decides in a transaction', async () => {
    const { admit, release: released } = await pair({ ratePerSecond: null, maxInFlight: 20 }, { kind: 'retryable_failure', reason: 'HTTP 503' });
    console.log('max_in_flight 20, retryable failure:', { admit, release: released });
    expect(admit).toHaveLength(1);
    expect(released).toHaveLength(5);
  });
});

describe('the fast paths keep the rules', () => {
  it('a success after failures ends the streak and the failing time; a neutral outcome changes nothing', async () => {
    const destinationId = await newDestination();
    const gate = gates[0]!;
    const limits = { ratePerSecond: null, maxInFlight: 5 };
    for (const eventId of ['f1', 'f2']) {
      expect(await gate.admit(request(destinationId, eventId, limits))).toMatchObject({ admitted: true });
      await release(gate, destinationId, eventId, { kind: 'retryable_failure', reason: 'HTTP 503' });
    }
    expect(await health(destinationId)).toMatchObject({ breaker: 'closed', failure_streak: 2, last_failure_reason: 'HTTP 503' });
    expect((await health(destinationId)).failing_since).not.toBeNull();

    await gate.admit(request(destinationId, 'n1', limits));
    const before = await health(destinationId);
    expect(await release(gate, destinationId, 'n1', { kind: 'neutral' })).toEqual({ opened: undefined, recovered: undefined, disabled: undefined, wake: [] });
    expect(await health(destinationId)).toEqual(before);

    await gate.admit(request(destinationId, 's1', limits));
    const result = await release(gate, destinationId, 's1');
    expect(result).toEqual({ opened: undefined, recovered: undefined, disabled: undefined, wake: [] });
    const after = await health(destinationId);
    expect(after).toMatchObject({ breaker: 'closed', failure_streak: 0, failing_since: null });
    expect(after.last_success_at).not.toBeNull();
    expect(await leases(destinationId)).toBe(0);
  });

  it('a refusal keeps the streak, starts the failing time once and stores the failure; one due to auto-disable disables the destination', async () => {
    const destinationId = await newDestination();
    const gate = gates[0]!;
    const limits = { ratePerSecond: null, maxInFlight: 5 };
    const breaker = { ...BREAKER, autoDisableAfterMs: 1_500 };
    const refuse = (eventId: string, reason: string) =>
      gate.release({ destinationId, accountId: ACCOUNT, eventId, outcome: { kind: 'permanent_failure', reason }, breaker });
    await gate.admit(request(destinationId, 'f1', limits));
    await release(gate, destinationId, 'f1', { kind: 'retryable_failure', reason: 'HTTP 503' });

    await gate.admit(request(destinationId, 'p1', limits));
    expect(await refuse('p1', 'HTTP 400')).toEqual({ opened: undefined, recovered: undefined, disabled: undefined, wake: [] });
    const first = await health(destinationId);
    expect(first).toMatchObject({ breaker: 'closed', failure_streak: 1, last_failure_reason: 'HTTP 400' });
    await gate.admit(request(destinationId, 'p2', limits));
    await refuse('p2', 'HTTP 404');
    const second = await health(destinationId);
    expect(second).toMatchObject({ breaker: 'closed', failure_streak: 1, last_failure_reason: 'HTTP 404', failing_since: first.failing_since });
    expect((second.last_failure_at as Date).getTime()).toBeGreaterThanOrEqual((first.last_failure_at as Date).getTime());
    expect(await leases(destinationId)).toBe(0);

    await sleep(1_600);
    await gate.admit(request(destinationId, 'p3', limits));
    const disabled = await refuse('p3', 'HTTP 410');
    expect(disabled.disabled?.reason).toContain('the last failure: HTTP 410');
    const [destination]: Array<{ enabled: boolean }> = await pools[0]!.query(`SELECT enabled FROM destinations WHERE id = $1`, [destinationId]);
    expect(destination!.enabled).toBe(false);
  });

  it('a slot freed behind an open breaker wakes nobody', async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    expect(await gates[0]!.admit(request(destinationId, 'a', limits))).toMatchObject({ admitted: true });
    expect(await gates[1]!.admit(request(destinationId, 'b', limits))).toMatchObject({ admitted: false, reason: 'in_flight_full' });
    // The breaker opened by other attempts while `a` was in flight; `a` ends neutral (cancelled).
    await pools[0]!.query(`UPDATE destination_health SET breaker = 'open', opened_at = now(), open_until = now() + interval '30 seconds' WHERE destination_id = $1`, [destinationId]);
    expect((await release(gates[2]!, destinationId, 'a', { kind: 'neutral' })).wake).toEqual([]);
    expect(await leases(destinationId)).toBe(0);
  });

  it('a full destination holds and queues the next delivery, and the release that frees a slot wakes it', async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    expect(await gates[0]!.admit(request(destinationId, 'a', limits))).toMatchObject({ admitted: true });
    const held = await gates[1]!.admit(request(destinationId, 'b', limits));
    expect(held).toMatchObject({ admitted: false, reason: 'in_flight_full', exact: true });
    expect((await release(gates[2]!, destinationId, 'a')).wake).toEqual(['delivery-b']);
    expect(await gates[1]!.admit(request(destinationId, 'b', limits))).toMatchObject({ admitted: true });
    const [queued]: Array<{ n: number }> = await pools[0]!.query(`SELECT count(*)::int AS n FROM destination_waiters WHERE destination_id = $1`, [destinationId]);
    expect(queued!.n).toBe(0);
  });

  it("frees a dead worker's slot when its lease expires, not sooner", async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    expect(await gates[0]!.admit(request(destinationId, 'dead', limits, { leaseMs: 400 }))).toMatchObject({ admitted: true });
    expect(await gates[1]!.admit(request(destinationId, 'next', limits))).toMatchObject({ admitted: false, reason: 'in_flight_full' });
    await sleep(450);
    expect(await gates[1]!.admit(request(destinationId, 'next', limits))).toMatchObject({ admitted: true });
  });

  it('an open breaker holds everyone until its cool-down ends, then lets exactly one probe through across processes', async () => {
    const destinationId = await newDestination();
    const breaker = { failureThreshold: 2, cooldownMs: 300, autoDisableAfterMs: null };
    const limits = { ratePerSecond: null, maxInFlight: 20 };
    for (const eventId of ['x1', 'x2']) {
      await gates[0]!.admit({ ...request(destinationId, eventId, limits), breaker });
    }
    await gates[0]!.release({ destinationId, accountId: ACCOUNT, eventId: 'x1', outcome: { kind: 'retryable_failure', reason: 'HTTP 503' }, breaker });
    const opened = await gates[1]!.release({ destinationId, accountId: ACCOUNT, eventId: 'x2', outcome: { kind: 'retryable_failure', reason: 'HTTP 503' }, breaker });
    expect(opened.opened).toBeDefined();
    expect(await gates[2]!.admit({ ...request(destinationId, 'w0', limits), breaker })).toMatchObject({ admitted: false, reason: 'breaker_open' });

    await sleep(350);
    const admissions = await Promise.all(
      Array.from({ length: 24 }, (_, i) => gates[i % gates.length]!.admit({ ...request(destinationId, `w${i}`, limits), breaker })),
    );
    const probes = admissions.filter((admission) => admission.admitted);
    expect(probes).toEqual([{ admitted: true, probe: true, delayMs: 0 }]);
    expect(admissions.filter((admission) => !admission.admitted && admission.reason === 'probe_in_flight')).toHaveLength(23);

    const probeEvent = `w${admissions.findIndex((admission) => admission.admitted)}`;
    const recovered = await gates[0]!.release({ destinationId, accountId: ACCOUNT, eventId: probeEvent, outcome: { kind: 'success' }, breaker });
    expect(recovered.recovered).toBeDefined();
    expect(recovered.wake).toHaveLength(23);
    expect(await health(destinationId)).toMatchObject({ breaker: 'closed', failure_streak: 0, probe_event_id: null });
  });
});

describe('a decision reads what the previous holder of the lock wrote', () => {
  /**
   * Holds the destination's health row lock in a transaction of its own (another worker deciding),
   * starts `decision` — which must wait for the lock — then writes `meanwhile` and commits. What
   * `decision` returns must reflect `meanwhile`: a statement that read before its lock was granted
   * would count too few leases or miss the delivery just queued.
   */
  async function whileLocked<T>(destinationId: string, meanwhile: string, params: unknown[], decision: () => Promise<T>): Promise<T> {
    const runner = pools[2]!.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(`SELECT 1 FROM destination_health WHERE destination_id = $1 FOR UPDATE`, [destinationId]);
      const pending = decision();
      // Until the decision is waiting on the lock.
      for (let i = 0; i < 200; i++) {
        const [row]: Array<{ n: number }> = await pools[2]!.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (row!.n > 0) break;
        await sleep(10);
      }
      await runner.query(meanwhile, params);
      await runner.commitTransaction();
      return await pending;
    } finally {
      await runner.release();
    }
  }

  it('an admission counts the lease taken while it waited for the lock', async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    await gates[0]!.admit(request(destinationId, 'warm', limits));
    await release(gates[0]!, destinationId, 'warm');
    const admission = await whileLocked(
      destinationId,
      `INSERT INTO destination_leases (destination_id, event_id, account_id, expires_at) VALUES ($1, 'other', $2, now() + interval '1 minute')`,
      [destinationId, ACCOUNT],
      () => gates[0]!.admit(request(destinationId, 'late', limits)),
    );
    expect(admission).toMatchObject({ admitted: false, reason: 'in_flight_full' });
  });

  it('a release wakes the delivery queued while it waited for the lock', async () => {
    const destinationId = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 1 };
    await gates[0]!.admit(request(destinationId, 'holder', limits));
    const result = await whileLocked(
      destinationId,
      `INSERT INTO destination_waiters (destination_id, workflow_id, account_id) VALUES ($1, 'delivery-queued', $2)`,
      [destinationId, ACCOUNT],
      () => release(gates[0]!, destinationId, 'holder'),
    );
    expect(result.wake).toEqual(['delivery-queued']);
  });
});

describe('within one process', () => {
  it("holds at most two of the pool's connections per destination: a destination stuck on its row lock leaves the others the rest", async () => {
    // A worker of its own, with a small pool, and a destination whose row another process holds locked.
    const small = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 4 })).initialize();
    const tenant = new TenantDatabase(small);
    const gate = new PostgresTrafficGate(new TrafficRepository(small, tenant), new DestinationRepository(tenant));
    const stuck = await newDestination();
    const other = await newDestination();
    const limits = { ratePerSecond: null, maxInFlight: 20 };
    const lockWaiters = async () => {
      const [row]: Array<{ n: number }> = await pools[2]!.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return row!.n;
    };
    await gate.admit(request(stuck, 'warm', limits));
    await release(gate, stuck, 'warm');
    const blocker = pools[2]!.createQueryRunner();
    await blocker.connect();
    try {
      await blocker.startTransaction();
      await blocker.query(`SELECT 1 FROM destination_health WHERE destination_id = $1 FOR UPDATE`, [stuck]);
      // Twelve attempts to the stuck destination end at once, as twenty timeouts at one receiver do.
      const stuckReleases = Array.from({ length: 12 }, (_, i) => {
        const eventId = `stuck-${i}`;
        return release(gate, stuck, eventId, { kind: 'retryable_failure', reason: 'AttemptTimeout' });
      });
      for (let i = 0; i < 200 && (await lockWaiters()) === 0; i++) await sleep(10);
      // Another destination's attempt is admitted and released while all of them wait.
      const admitted = await gate.admit(request(other, 'other-1', limits));
      const released = await release(gate, other, 'other-1');
      expect(admitted).toEqual({ admitted: true, probe: false, delayMs: 0 });
      expect(released.wake).toEqual([]);
      // Two of the twelve are in the database, waiting on the lock; the rest wait their turn in the process.
      expect(await lockWaiters()).toBe(2);
      await blocker.commitTransaction();
      const results = await Promise.all(stuckReleases);
      expect(results).toHaveLength(12);
      expect(await health(stuck)).toMatchObject({ failure_streak: 12, breaker: 'open' });
    } finally {
      if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      await blocker.release();
      await small.destroy();
    }
  }, 30_000);
});

describe('under concurrency across processes', () => {
  /**
   * `deliveries` deliveries, each trying until admitted, spread over the pools: a held one waits
   * for the wake-up a release hands out (buffered when it comes early, as a Temporal signal is),
   * and counts a stall should none come within `stallMs` — a lost wake-up.
   */
  async function run(limits: TrafficLimits, deliveries: number, stallMs = 3_000) {
    const destinationId = await newDestination();
    let inFlight = 0;
    let mostInFlight = 0;
    let stalls = 0;
    let holds = 0;
    const woken = new Set<string>();
    const waiting = new Map<string, () => void>();
    const wake = (workflowIds: string[]) => {
      for (const id of workflowIds) {
        const resume = waiting.get(id);
        if (resume) resume();
        else woken.add(id);
      }
    };
    const waitForWake = (workflowId: string) =>
      new Promise<void>((resolve) => {
        if (woken.delete(workflowId)) return resolve();
        const timer = setTimeout(() => {
          stalls += 1;
          waiting.delete(workflowId);
          resolve();
        }, stallMs);
        waiting.set(workflowId, () => {
          clearTimeout(timer);
          waiting.delete(workflowId);
          resolve();
        });
      });

    await Promise.all(
      Array.from({ length: deliveries }, async (_, i) => {
        const gate = gates[i % gates.length]!;
        const eventId = randomUUID();
        for (;;) {
          const admission: Admission = await gate.admit(request(destinationId, eventId, limits));
          if (admission.admitted) break;
          holds += 1;
          await waitForWake(`delivery-${eventId}`);
        }
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await sleep(Math.random() * 4);
        inFlight -= 1;
        wake((await release(gate, destinationId, eventId)).wake);
      }),
    );
    return { destinationId, mostInFlight, stalls, holds };
  }

  it('never lets more than max_in_flight attempts go at once, and loses no wake-up', async () => {
    const { destinationId, mostInFlight, stalls, holds } = await run({ ratePerSecond: null, maxInFlight: 3 }, 60);
    console.log('max_in_flight 3, 60 deliveries over 3 pools:', { mostInFlight, holds, stalls });
    expect(mostInFlight).toBeLessThanOrEqual(3);
    expect(holds).toBeGreaterThan(0);
    expect(stalls).toBe(0);
    expect(await leases(destinationId)).toBe(0);
  }, 60_000);

  it('admits every delivery at once without limits', async () => {
    const { mostInFlight, holds } = await run(NO_LIMITS, 60);
    expect(holds).toBe(0);
    expect(mostInFlight).toBeGreaterThan(1);
  }, 60_000);
});
