import { existsSync, readFileSync } from 'node:fs';
import type { CeilingBResult } from './ceiling-b/run.js';
import type { BacklogResult } from './scenarios/backlog.js';
import type { CeilingAResult } from './scenarios/ceiling-a.js';
import type { LimiterResult } from './scenarios/limiter.js';
import type { NoisyNeighbourResult } from './scenarios/noisy-neighbour.js';
import type { PeerResult } from './scenarios/peer.js';
import type { PeerFaultRun, PeerFaultsResult } from './scenarios/peer-faults.js';
import type { RecoveryResult } from './scenarios/recovery.js';
import type { ProductResult } from './scenarios/product.js';
import type { ScaleOutResult, ScaleOutRun } from './scenarios/scale-out.js';
import type { SoakResult } from './scenarios/soak.js';
import type { BenchOptions, BenchPhase } from './support/options.js';
import type { MachineInfo } from './support/environment.js';
import type { HistoryCost } from './support/history.js';
import { fmt } from './support/stats.js';

export interface BenchResults {
  label: string;
  /** The phases run, when `--only` left some out; absent for a full run. */
  only?: BenchPhase[];
  info: MachineInfo;
  options: Pick<BenchOptions, 'events' | 'concurrency' | 'fanout' | 'rawRequests' | 'backlog' | 'peerConcurrency'>;
  environment: { database: string; postgres: string; temporal: string; temporalServer: string; temporalCli: string | undefined; redis: string | undefined };
  durationSeconds: number;
  /** 1-minute load average when the report was written. */
  loadAverageAtEnd: number;
  /** Absent when `--only` left the phase out. */
  ceilingA?: CeilingAResult;
  ceilingB?: CeilingBResult;
  product: ProductResult[];
  /** Absent in results written before the scale-out and soak phases existed. */
  scaleOut?: ScaleOutResult | { skipped: string };
  soak?: SoakResult | { skipped: string };
  /** Absent in results written before the traffic-control phases existed (an older baseline.json). */
  noisy?: NoisyNeighbourResult | { skipped: string };
  limiter?: LimiterResult | { skipped: string };
  /** Absent in results written before the recovery phase existed. */
  recovery?: RecoveryResult | { skipped: string };
  peer: PeerResult | { skipped: string };
  /** Absent in results written before the peer's fault runs existed. */
  peerFaults?: PeerFaultsResult | { skipped: string };
  backlog: BacklogResult | { skipped: string };
}

/** The result of a phase that ran, or undefined when it was skipped (or predates the results file). */
function ran<T extends object>(result: T | { skipped: string } | undefined): T | undefined {
  // A phase's own results may have a numeric `skipped` (the recovery's count): only a reason string marks a skipped phase.
  return result === undefined || typeof (result as { skipped?: unknown }).skipped === 'string' ? undefined : (result as T);
}
/** A phase that `--only` left out is not mentioned; any other skip is, with its reason. */
function skippedFor(result: { skipped: string } | object | undefined): string | undefined {
  const skipped = (result as { skipped?: unknown } | undefined)?.skipped;
  return typeof skipped === 'string' && skipped !== '--only' ? skipped : undefined;
}

const ms = (value: number) => `${fmt(value, value < 10 ? 1 : 0)} ms`;
const optionalMs = (value: number | undefined) => (value === undefined ? 'n/a' : ms(value));
const signedMs = (value: number) => `${value > 0 ? '+' : value < 0 ? '−' : ''}${ms(Math.abs(value))}`;
const rate = (value: number, unit: string) => `${fmt(value, value < 100 ? 1 : 0)} ${unit}`;
const ratio = (a: number, b: number) => (b > 0 ? `${fmt((a / b) * 100, 1)} %` : 'n/a');
const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The report as Markdown: printed at the end of the run and written to bench/RESULTS.md. */
export function renderReport(results: BenchResults, baseline: BenchResults | undefined, notesFile: string): string {
  const { info, options, environment: env, ceilingA: a, ceilingB: b, product } = results;
  const peer = ran(results.peer);
  const backlog = ran(results.backlog);
  const noisy = ran(results.noisy);
  const limiter = ran(results.limiter);
  const recovery = ran(results.recovery);
  const peerFaults = ran(results.peerFaults);
  const scaleOut = ran(results.scaleOut);
  const soak = ran(results.soak);
  const out: string[] = [];
  out.push('# XTRACKER Webhooks — benchmark results', '');
  out.push(
    results.only
      ? `Written by \`npm run bench -- --only ${results.only.join(',')}\`: these phases only; how each figure is measured: bench/README.md.`
      : 'Written by `npm run bench` (overwritten by each run); how each figure is measured: [bench/README.md](README.md).',
    '',
  );
  out.push(
    table(
      ['run', ''],
      [
        ['date', info.date],
        ...(results.label ? [['label', results.label]] : []),
        ...(results.only ? [['phases', `only ${results.only.join(', ')} (--only)`]] : []),
        ['machine', `${info.cores} cores (${info.cpuModel}), ${info.memoryGiB} GiB; load average ${fmt(info.loadAverage, 2)} at the start, ${fmt(results.loadAverageAtEnd, 2)} at the end`],
        [
          'sizes',
          `N = ${options.events} events, C = ${options.concurrency} in flight, fan-out ${options.fanout}, ceiling A ${options.rawRequests} requests, backlog ${options.backlog}${soak ? `, soak ${soak.minutes} min` : ''}`,
        ],
        ['Node', info.node],
        ['Temporal', `server ${env.temporalServer} (${env.temporal}${env.temporalCli ? `, ${env.temporalCli}` : ''}), SDK @temporalio/client ${info.packages['@temporalio/client']}, worker ${info.packages['@temporalio/worker']}`],
        ['PostgreSQL', `${env.postgres} (${env.database})`],
        [
          'Redis / BullMQ',
          [
            env.redis ? `Redis ${env.redis}, bullmq ${info.packages.bullmq}, ioredis ${info.packages.ioredis}` : skippedFor(results.peer) ? `peer skipped: ${skippedFor(results.peer)}` : 'peer not run (--only)',
            ...(peerFaults ? [`fault runs: redis-server ${peerFaults.redisServer} started by the benchmark on free loopback ports${env.redis ? '' : `, bullmq ${info.packages.bullmq}, ioredis ${info.packages.ioredis}`}`] : []),
            ...(skippedFor(results.peerFaults) ? [`fault runs skipped: ${skippedFor(results.peerFaults)}`] : []),
          ].join('; '),
        ],
        ['libraries', `@nestjs/core ${info.packages['@nestjs/core']}, typeorm ${info.packages.typeorm}, pg ${info.packages.pg}, undici ${info.packages.undici}`],
        ['run time', `${fmt(results.durationSeconds)} s`],
      ],
    ),
    '',
  );

  const rows: string[][] = [];
  if (a) rows.push([`Ceiling A — raw HTTP: ${a.requests} undici POSTs to the sink`, rate(a.requestsPerSecond, 'req/s'), `request ${ms(a.latencyP50Ms)}`, ms(a.latencyP99Ms)]);
  if (b) {
    rows.push([`Ceiling B — bare Temporal: ${b.workflows} starts of a one-no-op-activity workflow`, rate(b.startsPerSecond, 'starts/s'), `start ${ms(b.startP50Ms)}`, ms(b.startP99Ms)]);
    rows.push([`Ceiling B — started → completed`, rate(b.workflowsPerSecond, 'workflows/s'), '', '']);
  }
  for (const p of product) {
    rows.push([`Product, fan-out ${p.fanout}: ${p.events} events ingested through the API`, rate(p.ingestPerSecond, 'events/s'), `ingest ${ms(p.ingestP50Ms)}`, ms(p.ingestP99Ms)]);
    rows.push([`Product, fan-out ${p.fanout}: ${p.deliveries} deliveries end to end`, rate(p.deliveriesPerSecond, 'deliveries/s'), `ingest → arrival ${ms(p.arrivalP50Ms)}`, ms(p.arrivalP99Ms)]);
    if (p.dispatchP99Ms !== undefined) {
      rows.push([`Product, fan-out ${p.fanout}: outbox commit → workflow start accepted`, '', `dispatch ${ms(p.dispatchP50Ms)}`, ms(p.dispatchP99Ms)]);
    }
  }
  if (scaleOut) {
    const { scaled } = scaleOut;
    const shape = `${scaled.apis} APIs + ${scaled.workers} workers`;
    rows.push([`Scale-out, ${shape}: ${scaled.events} events ingested through both APIs`, rate(scaled.ingestPerSecond, 'events/s'), `ingest ${ms(scaled.ingestP50Ms)}`, ms(scaled.ingestP99Ms)]);
    rows.push([`Scale-out, ${shape}: ${scaled.deliveries} deliveries end to end`, rate(scaled.deliveriesPerSecond, 'deliveries/s'), `ingest → arrival ${ms(scaled.arrivalP50Ms)}`, ms(scaled.arrivalP99Ms)]);
  }
  if (peer) {
    rows.push([`Peer — BullMQ: ${peer.jobs} jobs enqueued`, rate(peer.enqueuePerSecond, 'jobs/s'), '', '']);
    rows.push([`Peer — BullMQ: deliveries end to end (worker concurrency ${peer.workerConcurrency})`, rate(peer.deliveriesPerSecond, 'deliveries/s'), `enqueue → arrival ${ms(peer.arrivalP50Ms)}`, ms(peer.arrivalP99Ms)]);
  } else if (skippedFor(results.peer)) {
    rows.push(['Peer — BullMQ', `skipped: ${skippedFor(results.peer)}`, '', '']);
  }
  if (noisy) {
    for (const [name, load] of [
      ['quiet (healthy destination alone)', noisy.quiet],
      [`noisy (right after ${fmt(noisy.hangingDeliveries)} deliveries to a hanging receiver were ingested)`, noisy.noisy],
      [`settled (the same ${fmt(noisy.hangingDeliveries)} waiting behind its open breaker)`, noisy.settled],
    ] as const) {
      rows.push([`Noisy neighbour, ${name}: ${load.events} events to the healthy destination`, rate(load.offeredPerSecond, 'events/s offered'), `ingest → arrival ${ms(load.arrivalP50Ms)}`, ms(load.arrivalP99Ms)]);
    }
  }
  for (const run of limiter?.runs ?? []) {
    rows.push([`Limiter at ${fmt(run.configuredPerSecond)}/s: ${run.deliveries} deliveries queued at once`, rate(run.achievedPerSecond, 'deliveries/s'), '', '']);
  }
  if (recovery) {
    // Next to the product's end-to-end rows above: the same path, started by one POST …/recover instead of ingest.
    rows.push([`Recovery: ${fmt(recovery.retried)} failed deliveries given a new run by one POST …/recover`, rate(recovery.retriedPerSecond, 'deliveries/s'), `in ${fmt(recovery.recoverySeconds, 1)} s`, '']);
    rows.push([`Recovery: the same deliveries re-sent (accepted by the sink)`, rate(recovery.resentPerSecond, 'deliveries/s'), `in ${fmt(recovery.resendSeconds, 1)} s`, '']);
  }
  // A run of phases that measure no rate (`--only peer-faults`) has no such section rather than an empty table.
  if (rows.length > 0) out.push('## Throughput and latency', '', table(['', 'rate', 'p50', 'p99'], rows), '');

  if (product.length > 0) {
    out.push('## Ratios (product deliveries/s ÷ …)', '');
    out.push(
      table(
        ['', ...product.map((p) => `fan-out ${p.fanout}`)],
        [
          ['product / ceiling B (bare Temporal workflows/s)', ...product.map((p) => (b ? ratio(p.deliveriesPerSecond, b.workflowsPerSecond) : 'n/a'))],
          ['product / ceiling A (raw HTTP requests/s)', ...product.map((p) => (a ? ratio(p.deliveriesPerSecond, a.requestsPerSecond) : 'n/a'))],
          ['product / peer (BullMQ deliveries/s)', ...product.map((p) => (peer ? ratio(p.deliveriesPerSecond, peer.deliveriesPerSecond) : 'n/a'))],
        ],
      ),
      '',
    );
  }

  if (scaleOut) out.push(...scaleOutSection(scaleOut, product.find((p) => p.fanout === 1)));

  if (peerFaults) out.push(...peerUnderFaults(peerFaults));
  else if (skippedFor(results.peerFaults)) out.push('## The peer under faults', '', `skipped: ${skippedFor(results.peerFaults)}`, '');

  if (product.length > 0) out.push(...deterministicCost(product, b));
  if (product.length > 0 || b) out.push(...temporalCloudCost(product, b));
  if (product.length > 0 || b || peer) out.push(...cpuTable(product, b, peer));
  if (noisy || limiter) out.push(...trafficControl(noisy, limiter));
  if (soak) out.push(...soakSection(soak));

  if (backlog || skippedFor(results.backlog)) out.push('## Backlog memory', '');
  if (backlog) {
    out.push(
      `${fmt(backlog.deliveries)} deliveries (${fmt(backlog.events)} events × ${backlog.fanout} destinations, ingested through the API in ${fmt(backlog.ingestSeconds, 1)} s) against a sink answering 503, ` +
        `retry policy \`${JSON.stringify(backlog.retryPolicy)}\`. "after" is read once every delivery has failed and waits in Temporal's backoff for its next attempt ` +
        `(${fmt(backlog.failedSeconds, 0)} s after the first ingest; ${fmt(backlog.failedAttempts)} attempts answered 503; ${fmt(backlog.retryingInDatabase)} deliveries \`retrying\` in the database; ` +
        `activity slots in use in the worker then: ${backlog.activitySlotsUsed ?? 'n/a'}; workflows in its sticky cache: ${backlog.stickyCacheSize ?? 'n/a'}). Cleanup: ${backlog.cleanup}.` +
        (backlog.breakerFailureThreshold !== undefined
          ? ` The worker was restarted for this phase with BREAKER_FAILURE_THRESHOLD=${fmt(backlog.breakerFailureThreshold)}, so the breakers stay closed and every delivery waits in backoff, and warmed up with C events answered 200: "before" is that worker's RSS.`
          : ''),
      '',
    );
    out.push(
      table(
        ['RSS (MiB)', 'before', `after: ${fmt(backlog.deliveries)} retrying`, 'peak in between', 'after − before'],
        Object.entries(backlog.rss).map(([name, r]) => [name, fmt(r.before), fmt(r.after), fmt(r.peak), `${r.after - r.before >= 0 ? '+' : ''}${fmt(r.after - r.before)}`]),
      ),
      '',
    );
  } else if (skippedFor(results.backlog)) {
    out.push(`skipped: ${skippedFor(results.backlog)}`, '');
  }

  if (baseline && product.length > 0) {
    out.push('## Before / after', '');
    out.push(`Before: bench/baseline.json, run ${baseline.info.date}${baseline.label ? ` (${baseline.label})` : ''}, N = ${baseline.options.events}, C = ${baseline.options.concurrency}. After: this run.`, '');
    const rowsBA: string[][] = [];
    const add = (name: string, before: number | undefined, after: number | undefined, digits = 0) =>
      rowsBA.push([name, fmt(before, digits), fmt(after, digits), before && after ? `${after >= before ? '+' : ''}${fmt(((after - before) / before) * 100, 0)} %` : '']);
    for (const p of product) {
      const old = baseline.product.find((x) => x.fanout === p.fanout);
      const tag = `fan-out ${p.fanout}`;
      add(`${tag}: ingest accepted/s`, old?.ingestPerSecond, p.ingestPerSecond);
      add(`${tag}: ingest p50 ms`, old?.ingestP50Ms, p.ingestP50Ms, 1);
      add(`${tag}: ingest p99 ms`, old?.ingestP99Ms, p.ingestP99Ms, 1);
      add(`${tag}: outbox commit → workflow start p99 ms`, old?.dispatchP99Ms, p.dispatchP99Ms, 1);
      add(`${tag}: deliveries/s end to end`, old?.deliveriesPerSecond, p.deliveriesPerSecond);
      add(`${tag}: ingest → arrival p50 ms`, old?.arrivalP50Ms, p.arrivalP50Ms, 1);
      add(`${tag}: ingest → arrival p99 ms`, old?.arrivalP99Ms, p.arrivalP99Ms, 1);
      add(`${tag}: SQL statements per delivery (API + worker)`, old ? old.sql.apiPerDelivery + old.sql.workerPerDelivery : undefined, p.sql.apiPerDelivery + p.sql.workerPerDelivery, 2);
      add(`${tag}: history events per delivery`, old?.history.eventsMean, p.history.eventsMean, 2);
      add(`${tag}: CPU ms per delivery, all processes`, old ? sum(old.cpuMsPerDelivery) : undefined, sum(p.cpuMsPerDelivery), 2);
    }
    if (b) add('ceiling B workflows/s (same machine, for scale)', baseline.ceilingB?.workflowsPerSecond, b.workflowsPerSecond);
    out.push(table(['', 'before', 'after', 'change'], rowsBA), '');
  }
  // The notes discuss the product and ceiling figures: a report of other phases would cite rows it lacks.
  if (!results.only && existsSync(notesFile)) out.push(readFileSync(notesFile, 'utf8').trim(), '');
  return out.join('\n');
}

/** What the BullMQ peer lost or duplicated under each fault, beside the product's figures for the analogous faults (quoted from docs/RELIABILITY.md). */
function peerUnderFaults(result: PeerFaultsResult): string[] {
  const lines: string[] = ['## The peer under faults', ''];
  const settings = result.senderSettings;
  const seconds = (value: number | undefined) => (value === undefined ? 'n/a' : `${fmt(value / 1000, 0)} s`);
  lines.push(
    `The BullMQ peer as it is (worker concurrency ${fmt(result.workerConcurrency)}; stalled-job settings as the sender reported them, BullMQ's defaults since the peer sets none: ` +
      `lockDuration ${seconds(settings.lockDuration)}, stalledInterval ${seconds(settings.stalledInterval)}, maxStalledCount ${settings.maxStalledCount ?? 'n/a'}), ` +
      `each run on a redis-server ${result.redisServer} of its own on a free loopback port, every copy counted by a receiver in the benchmark process that never refuses one. ` +
      'Per accepted job (enqueue acknowledged by Redis), as the fault suite\'s ledger reads the product: delivered = at least one copy reached the receiver, lost = none did, ' +
      'duplicated = more than one did (extra copies: every copy after the first). How each fault is injected: bench/README.md.',
    '',
  );
  const drain = (run: PeerFaultRun) => {
    if (run.drainSeconds !== undefined) return `${fmt(run.drainSeconds, 1)} s (${run.repair} → queue empty)`;
    const left = Object.entries(run.leftInQueue).filter(([, n]) => n > 0).map(([state, n]) => `${fmt(n)} ${state}`).join(', ');
    return `not drained within ${fmt(run.deadlineSeconds)} s of the repair (${run.repair})${left ? `; left: ${left}` : ''}`;
  };
  const duplicated = (copies: number, jobs: number) => `${fmt(jobs)} (${fmt(copies)} extra ${copies === 1 ? 'copy' : 'copies'})`;
  const faultName = (run: PeerFaultRun) =>
    run.fault === 'worker-sigkill'
      ? `sender SIGKILL during attempts (${fmt(run.atFault.active)} jobs active, ${fmt(run.atFault.held)} of them held at the receiver); new sender started`
      : `Redis SIGKILL mid-flow, restarted on the same port and directory ${fmt(run.faultToRepairMs / 1000, 1)} s later: \`${run.persistence}\``;
  lines.push(
    table(
      ['peer (measured)', 'jobs accepted', 'delivered', 'lost', 'duplicated', 'time to drain'],
      result.runs.map((run) => [
        faultName(run),
        run.refused + run.unsettled > 0 ? `${fmt(run.accepted)} of ${fmt(run.jobs)} enqueues` : fmt(run.accepted),
        `${fmt(run.ledger.delivered)} / ${fmt(run.ledger.accepted)}`,
        fmt(run.ledger.lost),
        duplicated(run.ledger.extraCopies, run.ledger.duplicated),
        drain(run),
      ]),
    ),
    '',
  );
  for (const run of result.runs) {
    const at = run.atFault;
    const facts = [
      `at the fault: ${fmt(at.accepted)} enqueues acknowledged, ${fmt(at.atReceiver)} copies had reached the receiver and ${fmt(at.held)} were held open there; in Redis ${fmt(at.waiting)} waiting, ${fmt(at.active)} active, ${fmt(at.delayed)} delayed`,
      `receiver: first copies held ${fmt(run.holdMs)} ms${run.fault === 'worker-sigkill' ? ' until the SIGKILL, every copy answered at once after it' : ''}; ${fmt(run.ledger.abandoned)} held copies abandoned by their sender (counted as delivered, as the fault suite does)`,
      ...(run.ratePerSecond !== undefined ? [`enqueued open loop at ${fmt(run.ratePerSecond)}/s`] : []),
      ...(run.refused + run.unsettled > 0 || run.fault === 'redis-restart'
        ? [`enqueues refused ${fmt(run.refused)}, never settled ${fmt(run.unsettled)}, refused yet received ${fmt(run.refusedButReceived)}`]
        : []),
      `${run.repair} ${fmt(run.faultToRepairMs / 1000, 1)} s after the fault`,
      `BullMQ failed set at the end: ${fmt(run.failedInQueue)}`,
      ...(run.senderSurvived !== undefined ? [`the sender ${run.senderSurvived ? 'kept running through the outage and was not restarted' : 'exited during the run'}`] : []),
      ...(run.completionsNotRecorded !== undefined ? [`jobs the sender finished whose completion Redis no longer had a job to record ("Missing key for job … moveToFinished" in its log): ${fmt(run.completionsNotRecorded)}`] : []),
      `producer connection 'error' events: ${fmt(run.producerErrors)}`,
    ];
    lines.push(`- ${run.fault === 'worker-sigkill' ? 'Sender SIGKILL' : `Redis restart, \`${run.persistence}\``}: ${facts.join('; ')}.`);
  }
  lines.push('');

  const reference = result.productReference;
  lines.push(
    `The product under the analogous faults, quoted from [${reference.source}](../${reference.source})${reference.lastRun ? ` (last run ${reference.lastRun})` : ''}, not re-measured by this benchmark. ` +
      'The product has no Redis: its durable store is PostgreSQL, so the PostgreSQL outages 3a and 3b are the analogue of the Redis restart. ' +
      'Its figures count (event, destination) deliveries and extra copies after one the receiver had taken in.',
    '',
  );
  if (reference.rows.length === 0) {
    lines.push(`(no rows 1a, 3a, 3b found in ${reference.source})`, '');
  } else {
    lines.push(
      table(
        ['product (docs/RELIABILITY.md)', 'events accepted', 'delivered', 'lost', 'duplicated', 'time to drain'],
        reference.rows.map((row) => [`${row.id} — ${row.scenario}`, row.events, row.delivered, row.lost, `${row.extraCopies} extra copies`, row.recovery]),
      ),
      '',
    );
  }
  return lines;
}

/** Histories, SQL statements, HTTP and gRPC calls per delivery of the product runs (ceiling B beside them when it ran). */
function deterministicCost(product: ProductResult[], b: CeilingBResult | undefined): string[] {
  const lines: string[] = ['## Deterministic cost per delivery', ''];
  const dash = b ? ['—'] : [];
  const h = (x: { eventsMin: number; eventsMean: number; eventsMax: number }) =>
    x.eventsMin === x.eventsMax ? fmt(x.eventsMin) : `${fmt(x.eventsMin)}–${fmt(x.eventsMax)} (mean ${fmt(x.eventsMean, 2)})`;
  const act = (x: { actionsMin: number; actionsMean: number; actionsMax: number }) =>
    x.actionsMin === x.actionsMax ? fmt(x.actionsMin) : `${fmt(x.actionsMin)}–${fmt(x.actionsMax)} (mean ${fmt(x.actionsMean, 2)})`;
  const grpcText = (calls: Record<string, number>, filter: (name: string) => boolean) => {
    const picked = Object.entries(calls).filter(([name]) => filter(name));
    return picked.length === 0 ? '0' : `${fmt(picked.reduce((s, [, n]) => s + n, 0), 2)} (${picked.map(([name, n]) => `${name} ${fmt(n, 2)}`).join(', ')})`;
  };
  const isPoll = (name: string) => /^Poll/.test(name);
  lines.push(
    table(
      ['', ...product.map((p) => `product, fan-out ${p.fanout}`), ...(b ? ['ceiling B'] : [])],
      [
        ['Temporal history events per first-try delivery', ...product.map((p) => `${h(p.history)} (${p.history.workflows} read)`), ...(b ? [`${h(b.history)} (${b.history.workflows} read)`] : [])],
        ['Temporal actions per delivery', ...product.map((p) => act(p.history)), ...(b ? [act(b.history)] : [])],
        ['SQL statements per delivery, API (ingest)', ...product.map((p) => fmt(p.sql.apiPerDelivery, 2)), ...dash],
        ['SQL statements per delivery, worker', ...product.map((p) => fmt(p.sql.workerPerDelivery, 2)), ...dash],
        ['SQL statements per delivery, total', ...product.map((p) => fmt(p.sql.apiPerDelivery + p.sql.workerPerDelivery, 2)), ...dash],
        ['HTTP requests to the receiver per delivery', ...product.map((p) => fmt(p.http.sinkRequestsPerDelivery, 2)), ...dash],
        ['TCP connections opened to the receiver during the run (keep-alive reuse)', ...product.map((p) => fmt(p.http.sinkConnections)), ...dash],
        ['HTTP ingest requests per delivery', ...product.map((p) => fmt(p.http.ingestRequestsPerDelivery, 2)), ...dash],
        ['duplicate deliveries (repeated event_id at the sink)', ...product.map((p) => fmt(p.duplicates)), ...dash],
        ['sticky cache: workflow tasks served from the worker cache / replayed during the run', ...product.map((p) => `${fmt(p.stickyCache?.hits)} / ${fmt(p.stickyCache?.hits === undefined ? undefined : (p.stickyCache.misses ?? 0))}`), ...dash],
        ['gRPC calls to Temporal per delivery, API', ...product.map((p) => grpcText(p.grpc.apiPerDelivery, () => true)), ...dash],
        ['gRPC calls to Temporal per delivery, worker (non-poll)', ...product.map((p) => grpcText(p.grpc.workerPerDelivery, (n) => !isPoll(n))), ...dash],
        ['gRPC long polls per delivery, worker', ...product.map((p) => grpcText(p.grpc.workerPerDelivery, isPoll)), ...dash],
      ],
    ),
    '',
  );
  const first = product[0];
  if (first) {
    lines.push(`History of a first-try delivery (${first.history.sample.length} events): ${first.history.sample.join(' → ')}`, '');
    if (b) lines.push(`Ceiling B history (${b.history.sample.length} events): ${b.history.sample.join(' → ')}`, '');
  }
  for (const p of product) {
    const lengths = Object.entries(p.history.lengths ?? {}).map(([events, count]) => `${fmt(count)} × ${events} events`).join(', ');
    lines.push(`Fan-out ${p.fanout} history lengths: ${lengths}.${p.history.longest?.length ? ` Longest: ${p.history.longest.join(' → ')}` : ''}`, '');
  }
  lines.push('SQL statements per delivery, by statement (counted in the API and worker processes by wrapping `pg.Client.prototype.query`):', '');
  const shapes = new Set<string>();
  for (const p of product) for (const key of [...Object.keys(p.sql.api).map((k) => `api\u0000${k}`), ...Object.keys(p.sql.worker).map((k) => `worker\u0000${k}`)]) shapes.add(key);
  lines.push(
    table(
      ['process', 'statement (first 90 characters)', ...product.map((p) => `fan-out ${p.fanout}`)],
      [...shapes].map((key) => {
        const [proc, text] = key.split('\u0000') as ['api' | 'worker', string];
        return [proc, `\`${text.replace(/\|/g, '\\|')}\``, ...product.map((p) => fmt(p.sql[proc][text] ?? 0, 2))];
      }),
    ),
    '',
  );
  return lines;
}

/** CPU time per delivery by process, for each phase that measured it. */
function cpuTable(product: ProductResult[], b: CeilingBResult | undefined, peer: PeerResult | undefined): string[] {
  const lines: string[] = [];
  lines.push('## CPU time per delivery (ms, all cores; machine-dependent)', '');
  const cpuNames = new Set<string>([...Object.keys(b?.cpuMsPerWorkflow ?? {}), ...product.flatMap((p) => Object.keys(p.cpuMsPerDelivery)), ...(peer ? Object.keys(peer.cpuMsPerDelivery) : [])]);
  lines.push(
    table(
      ['process', ...(b ? ['ceiling B'] : []), ...product.map((p) => `product, fan-out ${p.fanout}`), ...(peer ? ['peer'] : [])],
      [
        ...[...cpuNames].map((name) => [
          name,
          ...(b ? [b.cpuMsPerWorkflow[name] !== undefined ? fmt(b.cpuMsPerWorkflow[name], 2) : '—'] : []),
          ...product.map((p) => (p.cpuMsPerDelivery[name] !== undefined ? fmt(p.cpuMsPerDelivery[name], 2) : '—')),
          ...(peer ? [peer.cpuMsPerDelivery[name] !== undefined ? fmt(peer.cpuMsPerDelivery[name], 2) : '—'] : []),
        ]),
        ['total', ...(b ? [fmt(sum(b.cpuMsPerWorkflow), 2)] : []), ...product.map((p) => fmt(sum(p.cpuMsPerDelivery), 2)), ...(peer ? [fmt(sum(peer.cpuMsPerDelivery), 2)] : [])],
      ],
    ),
    '',
  );
  return lines;
}

/** The noisy load's tail, as `at s → ms` pairs, slowest first. */
function slowest(load: NoisyNeighbourResult['quiet']): string {
  return load.slowest
    .map((x) => {
      const p = x.parts;
      return `${fmt(x.atS, 1)} s → ${ms(x.ms)}${p ? ` (API ${ms(p.api)}, outbox ${ms(p.outbox)}, task queue ${ms(p.taskQueue)}, worker ${ms(p.worker)})` : ''}`;
    })
    .join('; ');
}

/** The hanging receiver's attempts that ended during a load: how many, and from when to when. */
function endedAt(load: NoisyNeighbourResult['quiet']): string {
  const at = load.hangingEndedAtS;
  if (at.length === 0) return '0';
  return `${fmt(at.length)}, ${fmt(Math.min(...at), 1)}–${fmt(Math.max(...at), 1)} s`;
}

/** The noisy-neighbour and limiter phases (docs/TRAFFIC.md): what one destination's trouble or limit does to the traffic. */
function trafficControl(noisy: NoisyNeighbourResult | undefined, limiter: LimiterResult | undefined): string[] {
  const lines: string[] = ['## Destination traffic control', ''];
  if (noisy) {
    const { quiet, noisy: loud, settled: calm } = noisy;
    lines.push('### Noisy neighbour', '');
    lines.push(
      `One account, two destinations. Healthy: the sink, mapping \`deposit\`. Hanging: a receiver in the benchmark process that accepts the connection and never answers, ` +
        `mapping \`contact\`, \`timeout_ms\` ${fmt(noisy.hangingTimeoutMs)}, max_in_flight ${fmt(noisy.hangingMaxInFlight)} (the default). ` +
        `The healthy load, ${fmt(quiet.events)} \`deposit\` events at ${fmt(quiet.offeredPerSecond)}/s (open loop), runs alone (quiet), then again once ` +
        `${fmt(noisy.hangingDeliveries)} \`contact\` deliveries were queued to the hanging destination (ingested in ${fmt(noisy.hangingIngestSeconds, 1)} s, C in flight) ` +
        `and it held ${fmt(noisy.hangingMaxInFlight)} attempts open (noisy), and a third time once its breaker had opened and ${fmt(noisy.settleSeconds, 0)} s more had passed (settled). ` +
        `Latency: ingest request sent → first arrival at the sink.`,
      '',
    );
    const slots = (load: NoisyNeighbourResult['quiet']) => `${fmt(load.peakActivitySlots)}${noisy.workerActivitySlots !== undefined ? ` of ${fmt(noisy.workerActivitySlots)}` : ''}`;
    lines.push(
      table(
        ['healthy destination', 'quiet', 'noisy', 'settled'],
        [
          ['ingest → arrival p50', ms(quiet.arrivalP50Ms), ms(loud.arrivalP50Ms), ms(calm.arrivalP50Ms)],
          ['ingest → arrival p99', ms(quiet.arrivalP99Ms), ms(loud.arrivalP99Ms), ms(calm.arrivalP99Ms)],
          ['ingest → arrival max', ms(quiet.arrivalMaxMs), ms(loud.arrivalMaxMs), ms(calm.arrivalMaxMs)],
          ['slowest 1 %: ingested at (s into the load) → latency', slowest(quiet), slowest(loud), slowest(calm)],
          ['attempts at the hanging receiver that timed out during the load, at (s)', endedAt(quiet), endedAt(loud), endedAt(calm)],
          ['ingest request p50 / p99', `${ms(quiet.ingestP50Ms)} / ${ms(quiet.ingestP99Ms)}`, `${ms(loud.ingestP50Ms)} / ${ms(loud.ingestP99Ms)}`, `${ms(calm.ingestP50Ms)} / ${ms(calm.ingestP99Ms)}`],
          ['worker activity slots in use, peak of 1 s samples', slots(quiet), slots(loud), slots(calm)],
          ['attempts hanging at the receiver when the load started', fmt(quiet.hangingOpenAtStart), fmt(loud.hangingOpenAtStart), fmt(calm.hangingOpenAtStart)],
          ['load generator behind its schedule, worst', ms(quiet.generatorLateMaxMs), ms(loud.generatorLateMaxMs), ms(calm.generatorLateMaxMs)],
          ['worker, all destinations: activities run (holds included)', fmt(quiet.worker.activitiesRun), fmt(loud.worker.activitiesRun), fmt(calm.worker.activitiesRun)],
          ['worker: workflow tasks that replayed their history (sticky cache misses)', fmt(quiet.worker.stickyCacheMisses), fmt(loud.worker.stickyCacheMisses), fmt(calm.worker.stickyCacheMisses)],
          ['worker: activity task schedule → start, mean', optionalMs(quiet.worker.activityScheduleToStartMeanMs), optionalMs(loud.worker.activityScheduleToStartMeanMs), optionalMs(calm.worker.activityScheduleToStartMeanMs)],
          ['worker: workflow task schedule → start, mean', optionalMs(quiet.worker.workflowTaskScheduleToStartMeanMs), optionalMs(loud.worker.workflowTaskScheduleToStartMeanMs), optionalMs(calm.worker.workflowTaskScheduleToStartMeanMs)],
        ],
      ),
      '',
    );
    const r = noisy.hangingReceiver;
    const health = noisy.hangingHealthAtEnd;
    const statuses = Object.entries(noisy.hangingStatusesAtEnd).map(([status, n]) => `${fmt(n)} ${status}`).join(', ');
    lines.push(
      `**p99 noisy ÷ quiet: ${fmt(noisy.p99Ratio, 2)}×; settled ÷ quiet: ${fmt(noisy.settledP99Ratio, 2)}×** (goal ≤ 1.5×: ${noisy.p99Ratio <= 1.5 ? 'met' : 'not met'} right after the backlog was ingested, ${noisy.settledP99Ratio <= 1.5 ? 'met' : 'not met'} once it waits). ` +
        `The hanging receiver got ${fmt(r.requests)} requests (${fmt(r.ids)} distinct deliveries, ${fmt(r.connections)} connections, at most ${fmt(r.peakOpen)} open at once) ` +
        `in the ${fmt(noisy.hangingSeconds, 0)} s from its first ingest to the end of the noisy load. Its destination then (GET): breaker \`${health.breaker}\`, ` +
        `failure_streak ${fmt(health.failure_streak)}${health.open_until ? `, open until ${health.open_until}` : ''}${health.last_failure_reason ? `, last failure "${health.last_failure_reason}"` : ''}; ` +
        `its deliveries in the database: ${statuses}. Cleanup (DELETE the account): ${noisy.cleanup}.`,
      '',
    );
  }
  if (limiter) {
    lines.push('### Limiter accuracy', '');
    lines.push(
      'A destination with `rate_limit_per_second` (and `max_in_flight` 10,000, so that only the rate limit holds), its deliveries ingested as fast as the API takes them (C in flight), then spread by the limiter. ' +
        'Achieved = deliveries ÷ (last arrival − first arrival) at the sink; busiest = the most arrivals in any 1 s / 10 s window; ' +
        'holds and wake signals counted in the histories of all the deliveries (each hold is one more `ACTIVITY_TASK_SCHEDULED`; ' +
        'a delivery held more than once came back for its reserved slot more than a second early and waited again).',
      '',
    );
    const h = (x: LimiterResult['runs'][number]['history']) =>
      x.eventsMin === x.eventsMax ? fmt(x.eventsMin) : `${fmt(x.eventsMin)}–${fmt(x.eventsMax)} (mean ${fmt(x.eventsMean, 2)})`;
    lines.push(
      table(
        ['configured', 'deliveries', 'ingested in', 'spread over', 'achieved', 'achieved ÷ configured', '(n − 1) ÷ span', 'busiest 1 s', 'busiest 10 s', 'requests per delivery', 'holds / wake signals per delivery', 'history events per delivery', 'actions per delivery'],
        limiter.runs.map((run) => [
          `${fmt(run.configuredPerSecond)}/s`,
          fmt(run.deliveries),
          `${fmt(run.ingestSeconds, 1)} s`,
          `${fmt(run.spanSeconds, 2)} s`,
          `${fmt(run.achievedPerSecond, 2)}/s`,
          fmt(run.achievedPerSecond / run.configuredPerSecond, 3),
          `${fmt(run.intervalsPerSecond, 2)}/s`,
          `${fmt(run.busiest1s)} (${fmt(run.busiest1s / run.configuredPerSecond, 2)}×)`,
          `${fmt(run.busiest10s)} (${fmt(run.busiest10s / (10 * run.configuredPerSecond), 2)}×)`,
          fmt(run.sinkRequests / run.deliveries, 2),
          `${fmt((run.history.eventTypes.ACTIVITY_TASK_SCHEDULED ?? 0) / run.history.workflows - 1, 2)} / ${fmt((run.history.eventTypes.WORKFLOW_EXECUTION_SIGNALED ?? 0) / run.history.workflows, 2)}`,
          `${h(run.history)} (${fmt(run.history.workflows)} read)`,
          run.history.actionsMin === run.history.actionsMax ? fmt(run.history.actionsMin) : `${fmt(run.history.actionsMin)}–${fmt(run.history.actionsMax)} (mean ${fmt(run.history.actionsMean, 2)})`,
        ]),
      ),
      '',
    );
    for (const run of limiter.runs) {
      const lengths = Object.entries(run.history.lengths).map(([events, count]) => `${fmt(count)} × ${events} events`).join(', ');
      const slots = run.history.reservedSlots;
      const late = slots
        ? ` Attempts that came for a reserved slot: ${fmt(slots.attempts)}, scheduled relative to it (− = before): p50 ${signedMs(slots.p50Ms)}, p99 ${signedMs(slots.p99Ms)}, latest ${signedMs(slots.maxMs)}.`
        : '';
      lines.push(`${fmt(run.configuredPerSecond)}/s history lengths: ${lengths}.${late}`, '');
    }
    const [first] = limiter.runs;
    if (first) lines.push(`History of a rate-limited delivery (the last one queued at ${fmt(first.configuredPerSecond)}/s, ${first.heldHistory.length} events): ${first.heldHistory.join(' → ')}`, '');
  }
  return lines;
}

/**
 * Temporal Cloud's list prices per million actions (Pay-As-You-Go), as docs/SCALING.md quotes
 * them: the first tier (an account's first 5 million actions a month) and the volume tier of
 * 100–200 million a month. Plan fees and storage are extra.
 */
const TEMPORAL_CLOUD_PRICING = {
  source: 'as published on temporal.io/pricing, read 2026-12-01',
  firstTier: { usdPerMillionActions: 50, label: 'first 5 M actions a month' },
  volumeTier: { usdPerMillionActions: 25, label: '100–200 M actions a month' },
};

/** What a million first-try deliveries cost in Temporal Cloud actions at both ends of the price range, ceiling B beside them. */
function temporalCloudCost(product: ProductResult[], b: CeilingBResult | undefined): string[] {
  const { source, firstTier, volumeTier } = TEMPORAL_CLOUD_PRICING;
  const lines: string[] = ['## Temporal Cloud cost', ''];
  lines.push(
    `Temporal Cloud bills actions. List prices ${source}: USD ${firstTier.usdPerMillionActions} per million actions for the ${firstTier.label}, ` +
      `falling by volume tiers to USD ${volumeTier.usdPerMillionActions} per million at ${volumeTier.label}. ` +
      'Cost per million deliveries = actions per first-try delivery (the mean over the histories read back above, as in "Deterministic cost per delivery") × 1,000,000 × the price per million actions, ' +
      'before plan fees and storage. Each retry adds one action (another activity attempt); a delivery held once by the traffic gate adds two (its next attempt and its timer), which is what a range above its minimum shows.',
    '',
  );
  const row = (name: string, history: HistoryCost) => [
    name,
    history.actionsMin === history.actionsMax ? fmt(history.actionsMean, 2) : `${fmt(history.actionsMean, 2)} (${fmt(history.actionsMin)}–${fmt(history.actionsMax)})`,
    fmt(history.actionsMean * 1_000_000),
    `USD ${fmt(history.actionsMean * firstTier.usdPerMillionActions, 2)}`,
    `USD ${fmt(history.actionsMean * volumeTier.usdPerMillionActions, 2)}`,
  ];
  lines.push(
    table(
      [
        '',
        'actions per first-try delivery, mean (range)',
        'actions per million deliveries',
        `per million deliveries at USD ${firstTier.usdPerMillionActions} / M actions (${firstTier.label})`,
        `at USD ${volumeTier.usdPerMillionActions} / M actions (${volumeTier.label})`,
      ],
      [
        ...product.map((p) => row(`product, fan-out ${p.fanout}`, p.history)),
        ...(b ? [row('ceiling B: bare one-activity workflow (per workflow)', b.history)] : []),
      ],
    ),
    '',
  );
  return lines;
}

/** The product with 2 APIs and 2 workers beside its 1 + 1 figures of the same run, and how the processes shared the work. */
function scaleOutSection(result: ScaleOutResult, product: ProductResult | undefined): string[] {
  const { single, scaled } = result;
  const lines: string[] = ['## Scale-out', ''];
  lines.push(
    `${fmt(scaled.events)} events at fan-out 1 (one destination at the sink), C = ${result.concurrency} in flight, first on the product's API and worker alone (the control), ` +
      `then with a second API and a second worker process started beside them on this machine (same PostgreSQL, Temporal dev server and task queue) and the load generator sending alternate events to each API ` +
      `(${scaled.ingestsPerApi.map((n, k) => `API ${k + 1}: ${fmt(n)}`).join(', ')}). Each delivery is timed from its ingest request to its arrival at the sink, as in the product's fan-out-1 run, whose figures are in the first column. ` +
      'All processes share the same cores, so a second pair adds no CPU: what this shows is whether the processes work in parallel or wait for one another.',
    '',
  );
  const runs: Array<[string, ScaleOutRun]> = [
    ['1 API + 1 worker (control)', single],
    [`${scaled.apis} APIs + ${scaled.workers} workers`, scaled],
  ];
  const productCell = (text: (p: ProductResult) => string) => (product ? text(product) : 'not in this run');
  lines.push(
    table(
      ['', 'product, fan-out 1 (1 API + 1 worker)', ...runs.map(([name]) => name), `${scaled.apis} + ${scaled.workers} ÷ control`],
      [
        ['deliveries/s end to end', productCell((p) => rate(p.deliveriesPerSecond, 'deliveries/s')), ...runs.map(([, run]) => rate(run.deliveriesPerSecond, 'deliveries/s')), fmt(scaled.deliveriesPerSecond / single.deliveriesPerSecond, 2)],
        ['ingest accepted/s', productCell((p) => rate(p.ingestPerSecond, 'events/s')), ...runs.map(([, run]) => rate(run.ingestPerSecond, 'events/s')), fmt(scaled.ingestPerSecond / single.ingestPerSecond, 2)],
        ['ingest → arrival p50 / p99', productCell((p) => `${ms(p.arrivalP50Ms)} / ${ms(p.arrivalP99Ms)}`), ...runs.map(([, run]) => `${ms(run.arrivalP50Ms)} / ${ms(run.arrivalP99Ms)}`), ''],
        ['CPU ms per delivery, all processes', productCell((p) => fmt(sum(p.cpuMsPerDelivery), 2)), ...runs.map(([, run]) => fmt(sum(run.cpuMsPerDelivery), 2)), fmt(sum(scaled.cpuMsPerDelivery) / sum(single.cpuMsPerDelivery), 2)],
        ['duplicate deliveries', productCell((p) => fmt(p.duplicates)), ...runs.map(([, run]) => fmt(run.duplicates)), ''],
        [
          'samples with a PostgreSQL backend waiting on a lock (most at once)',
          'not sampled',
          ...runs.map(([, run]) => `${fmt(run.lockWaits.samplesWithWaiters)} of ${fmt(run.lockWaits.samples)} (${fmt(run.lockWaits.maxWaiting)})`),
          '',
        ],
      ],
    ),
    '',
  );
  const share = (n: number | undefined, total: number) => (n === undefined ? 'n/a' : `${fmt(n)} (${ratio(n, total)})`);
  const workerRows: string[][] = [];
  for (const [name, run] of runs) {
    const totalOf = (pick: (w: ScaleOutRun['perWorker'][number]) => number | undefined) => run.perWorker.reduce((total, w) => total + (pick(w) ?? 0), 0);
    for (const w of run.perWorker) {
      workerRows.push([
        `${name}: ${w.name}`,
        share(w.workflowStarts, totalOf((x) => x.workflowStarts)),
        `${fmt(w.outboxBatches)} of ${fmt(w.outboxClaims)}`,
        share(w.attempts, totalOf((x) => x.attempts)),
        `${fmt(w.activities)} / ${fmt(w.localActivities)}`,
        share(w.workflowTasks, totalOf((x) => x.workflowTasks)),
      ]);
    }
  }
  lines.push(
    table(['worker', 'workflow starts by its outbox dispatcher', 'outbox claims that started workflows, of all its claims', 'HTTP attempts', 'activities / local activities run', 'workflow tasks run'], workerRows),
    '',
  );
  // Anything else dispatching from the same outbox (another worker on this database) would take starts these did not make.
  const startsMade = runs.map(([name, run]) => `${name}: ${fmt(run.perWorker.reduce((total, w) => total + w.workflowStarts, 0))} starts for ${fmt(run.deliveries)} deliveries`).join('; ');
  lines.push(
    "Starts: StartWorkflowExecution calls of each worker's Temporal client (counted by the preload); claims: its `claimOutbox` statements (FOR UPDATE SKIP LOCKED; idle ones, once a second, included) " +
      "and the `dispatched_at` UPDATEs of those that started workflows; HTTP attempts: its `xtracker_webhook_attempts_total`; activities and workflow tasks: the Temporal SDK's histogram counts on its /metrics. " +
      `Together (${startsMade}).`,
    '',
  );
  lines.push(
    `PostgreSQL lock waits: backends of the benchmark's database with \`wait_event_type = 'Lock'\`, sampled every 100 ms over each measured part; samples in which each wait event and each waiting statement appeared:`,
    '',
  );
  const waitKeys = (pick: (run: ScaleOutRun) => Record<string, number>, format: (key: string) => string) =>
    [...new Set(runs.flatMap(([, run]) => Object.keys(pick(run))))].map((key) => [format(key), ...runs.map(([, run]) => fmt(pick(run)[key] ?? 0))]);
  const waitRows = [
    ...waitKeys((run) => run.lockWaits.byWaitEvent, (key) => `wait event \`${key}\``),
    ...waitKeys((run) => run.lockWaits.byStatement, (key) => `\`${key.replace(/\|/g, '\\|')}…\``),
  ];
  lines.push(waitRows.length > 0 ? table(['', ...runs.map(([name]) => name)], waitRows) : '(no lock waits seen in any sample)', '');
  lines.push(
    table(
      ['CPU ms per delivery', ...runs.map(([name]) => name)],
      [...new Set(runs.flatMap(([, run]) => Object.keys(run.cpuMsPerDelivery)))].map((name) => [
        name,
        ...runs.map(([, run]) => (run.cpuMsPerDelivery[name] === undefined ? '—' : fmt(run.cpuMsPerDelivery[name], 2))),
      ]),
    ),
    '',
  );
  return lines;
}

/** The soak: a table row per minute, and the growth from the first minute to the last. */
function soakSection(result: SoakResult): string[] {
  const lines: string[] = ['## Soak', ''];
  const processes = Object.keys(result.rssBeforeMiB);
  const statuses = Object.entries(result.statuses).map(([status, n]) => `${fmt(n)} ${status}`).join(', ');
  lines.push(
    `${fmt(result.ingested)} deliveries (fan-out 1, one destination at the benchmark's loopback sink) ingested open loop at ${fmt(result.ratePerSecond, 1)}/s, ` +
      `half of ${fmt(result.capacityPerSecond, 1)} deliveries/s (${result.capacitySource}), for ${result.minutes} min; ` +
      `the load generator was at most ${ms(result.generatorLateMaxMs)} behind its schedule. ` +
      `**Lost: ${fmt(result.lost)}** (deliveries accepted with a 202 whose webhook-id never reached the sink, counted ${result.drained ? `once every one had arrived, ${fmt(result.drainSeconds, 1)} s after the last ingest` : `at the drain deadline, ${fmt(result.drainSeconds, 0)} s after the last ingest: not drained`}); ` +
      `ingests refused ${fmt(result.refused)}${result.firstRefusal ? ` (first: ${result.firstRefusal})` : ''}; duplicates ${fmt(result.duplicates)}; ` +
      `the destination's deliveries in the database at the end (the warm-up's ${fmt(result.warmUpDeliveries)} included): ${statuses}. ` +
      'Rows are minutes of ingest: each delivery counts in the minute its ingest request was sent, wherever it arrived; RSS is read at the end of the minute.',
    '',
  );
  const row = (m: SoakResult['perMinute'][number]) => [
    String(m.minute),
    fmt(m.ingested),
    fmt(m.delivered),
    fmt(m.lost),
    fmt(m.refused),
    optionalMs(Number.isFinite(m.arrivalP50Ms) ? m.arrivalP50Ms : undefined),
    optionalMs(Number.isFinite(m.arrivalP99Ms) ? m.arrivalP99Ms : undefined),
    ...processes.map((name) => fmt(m.rssMiB[name])),
  ];
  const first = result.perMinute[0];
  const last = result.perMinute[result.perMinute.length - 1];
  const change = (from: number | undefined, to: number | undefined, format: (value: number) => string) =>
    from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to) ? 'n/a' : `${to - from >= 0 ? '+' : '−'}${format(Math.abs(to - from))}`;
  lines.push(
    table(
      ['minute', 'ingested', 'delivered', 'lost', 'refused', 'ingest → arrival p50', 'p99', ...processes.map((name) => `RSS ${name} (MiB)`)],
      [
        ['before', '', '', '', '', '', '', ...processes.map((name) => fmt(result.rssBeforeMiB[name]))],
        ...result.perMinute.map(row),
        ...(first && last && last !== first
          ? [
              [
                `growth, minute 1 → ${last.minute}`,
                '',
                '',
                '',
                '',
                change(first.arrivalP50Ms, last.arrivalP50Ms, ms),
                change(first.arrivalP99Ms, last.arrivalP99Ms, ms),
                ...processes.map((name) => change(first.rssMiB[name], last.rssMiB[name], (value) => fmt(value))),
              ],
            ]
          : []),
      ],
    ),
    '',
  );
  if (processes.includes('temporal server')) {
    lines.push(
      "The Temporal server here is the benchmark's dev server, whose database is in memory: closed workflows stay in it until their namespace's retention ends (longer than a run), so its RSS grows with the deliveries made, where a cluster's would stay in its persistence.",
      '',
    );
  }
  return lines;
}
