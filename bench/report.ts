import { existsSync, readFileSync } from 'node:fs';
import type { CeilingBResult } from './ceiling-b/run.js';
import type { BacklogResult } from './scenarios/backlog.js';
import type { CeilingAResult } from './scenarios/ceiling-a.js';
import type { PeerResult } from './scenarios/peer.js';
import type { ProductResult } from './scenarios/product.js';
import type { BenchOptions } from './support/options.js';
import type { MachineInfo } from './support/environment.js';
import { fmt } from './support/stats.js';

export interface BenchResults {
  label: string;
  info: MachineInfo;
  options: Pick<BenchOptions, 'events' | 'concurrency' | 'fanout' | 'rawRequests' | 'backlog' | 'peerConcurrency'>;
  environment: { database: string; postgres: string; temporal: string; temporalServer: string; temporalCli: string | undefined; redis: string | undefined };
  durationSeconds: number;
  /** 1-minute load average when the report was written. */
  loadAverageAtEnd: number;
  ceilingA: CeilingAResult;
  ceilingB: CeilingBResult;
  product: ProductResult[];
  peer: PeerResult | { skipped: string };
  backlog: BacklogResult | { skipped: string };
}

const ms = (value: number) => `${fmt(value, value < 10 ? 1 : 0)} ms`;
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
  const peer = 'skipped' in results.peer ? undefined : results.peer;
  const backlog = 'skipped' in results.backlog ? undefined : results.backlog;
  const out: string[] = [];
  out.push('# XTRACKER Webhooks — benchmark results', '');
  out.push('Written by `npm run bench` (overwritten by each run); how each figure is measured: [bench/README.md](README.md).', '');
  out.push(
    table(
      ['run', ''],
      [
        ['date', info.date],
        ...(results.label ? [['label', results.label]] : []),
        ['machine', `${info.cores} cores (${info.cpuModel}), ${info.memoryGiB} GiB; load average ${fmt(info.loadAverage, 2)} at the start, ${fmt(results.loadAverageAtEnd, 2)} at the end`],
        ['sizes', `N = ${options.events} events, C = ${options.concurrency} in flight, fan-out ${options.fanout}, ceiling A ${options.rawRequests} requests, backlog ${options.backlog}`],
        ['Node', info.node],
        ['Temporal', `server ${env.temporalServer} (${env.temporal}${env.temporalCli ? `, ${env.temporalCli}` : ''}), SDK @temporalio/client ${info.packages['@temporalio/client']}, worker ${info.packages['@temporalio/worker']}`],
        ['PostgreSQL', `${env.postgres} (${env.database})`],
        ['Redis / BullMQ', env.redis ? `Redis ${env.redis}, bullmq ${info.packages.bullmq}, ioredis ${info.packages.ioredis}` : 'Redis unreachable: peer skipped'],
        ['libraries', `@nestjs/core ${info.packages['@nestjs/core']}, typeorm ${info.packages.typeorm}, pg ${info.packages.pg}, undici ${info.packages.undici}`],
        ['run time', `${fmt(results.durationSeconds)} s`],
      ],
    ),
    '',
  );

  out.push('## Throughput and latency', '');
  const rows: string[][] = [
    [`Ceiling A — raw HTTP: ${a.requests} undici POSTs to the sink`, rate(a.requestsPerSecond, 'req/s'), `request ${ms(a.latencyP50Ms)}`, ms(a.latencyP99Ms)],
    [`Ceiling B — bare Temporal: ${b.workflows} starts of a one-no-op-activity workflow`, rate(b.startsPerSecond, 'starts/s'), `start ${ms(b.startP50Ms)}`, ms(b.startP99Ms)],
    [`Ceiling B — started → completed`, rate(b.workflowsPerSecond, 'workflows/s'), '', ''],
  ];
  for (const p of product) {
    rows.push([`Product, fan-out ${p.fanout}: ${p.events} events ingested through the API`, rate(p.ingestPerSecond, 'events/s'), `ingest ${ms(p.ingestP50Ms)}`, ms(p.ingestP99Ms)]);
    rows.push([`Product, fan-out ${p.fanout}: ${p.deliveries} deliveries end to end`, rate(p.deliveriesPerSecond, 'deliveries/s'), `ingest → arrival ${ms(p.arrivalP50Ms)}`, ms(p.arrivalP99Ms)]);
  }
  if (peer) {
    rows.push([`Peer — BullMQ: ${peer.jobs} jobs enqueued`, rate(peer.enqueuePerSecond, 'jobs/s'), '', '']);
    rows.push([`Peer — BullMQ: deliveries end to end (worker concurrency ${peer.workerConcurrency})`, rate(peer.deliveriesPerSecond, 'deliveries/s'), `enqueue → arrival ${ms(peer.arrivalP50Ms)}`, ms(peer.arrivalP99Ms)]);
  } else {
    rows.push(['Peer — BullMQ', `skipped: ${(results.peer as { skipped: string }).skipped}`, '', '']);
  }
  out.push(table(['', 'rate', 'p50', 'p99'], rows), '');

  out.push('## Ratios (product deliveries/s ÷ …)', '');
  out.push(
    table(
      ['', ...product.map((p) => `fan-out ${p.fanout}`)],
      [
        ['product / ceiling B (bare Temporal workflows/s)', ...product.map((p) => ratio(p.deliveriesPerSecond, b.workflowsPerSecond))],
        ['product / ceiling A (raw HTTP requests/s)', ...product.map((p) => ratio(p.deliveriesPerSecond, a.requestsPerSecond))],
        ['product / peer (BullMQ deliveries/s)', ...product.map((p) => (peer ? ratio(p.deliveriesPerSecond, peer.deliveriesPerSecond) : 'n/a'))],
      ],
    ),
    '',
  );

  out.push('## Deterministic cost per delivery', '');
  const h = (x: { eventsMin: number; eventsMean: number; eventsMax: number }) =>
    x.eventsMin === x.eventsMax ? fmt(x.eventsMin) : `${fmt(x.eventsMin)}–${fmt(x.eventsMax)} (mean ${fmt(x.eventsMean, 2)})`;
  const act = (x: { actionsMin: number; actionsMean: number; actionsMax: number }) =>
    x.actionsMin === x.actionsMax ? fmt(x.actionsMin) : `${fmt(x.actionsMin)}–${fmt(x.actionsMax)} (mean ${fmt(x.actionsMean, 2)})`;
  const grpcText = (calls: Record<string, number>, filter: (name: string) => boolean) => {
    const picked = Object.entries(calls).filter(([name]) => filter(name));
    return picked.length === 0 ? '0' : `${fmt(picked.reduce((s, [, n]) => s + n, 0), 2)} (${picked.map(([name, n]) => `${name} ${fmt(n, 2)}`).join(', ')})`;
  };
  const isPoll = (name: string) => /^Poll/.test(name);
  out.push(
    table(
      ['', ...product.map((p) => `product, fan-out ${p.fanout}`), 'ceiling B'],
      [
        ['Temporal history events per first-try delivery', ...product.map((p) => `${h(p.history)} (${p.history.workflows} read)`), `${h(b.history)} (${b.history.workflows} read)`],
        ['Temporal actions per delivery', ...product.map((p) => act(p.history)), act(b.history)],
        ['SQL statements per delivery, API (ingest)', ...product.map((p) => fmt(p.sql.apiPerDelivery, 2)), '—'],
        ['SQL statements per delivery, worker', ...product.map((p) => fmt(p.sql.workerPerDelivery, 2)), '—'],
        ['SQL statements per delivery, total', ...product.map((p) => fmt(p.sql.apiPerDelivery + p.sql.workerPerDelivery, 2)), '—'],
        ['HTTP requests to the receiver per delivery', ...product.map((p) => fmt(p.http.sinkRequestsPerDelivery, 2)), '—'],
        ['TCP connections opened to the receiver during the run (keep-alive reuse)', ...product.map((p) => fmt(p.http.sinkConnections)), '—'],
        ['HTTP ingest requests per delivery', ...product.map((p) => fmt(p.http.ingestRequestsPerDelivery, 2)), '—'],
        ['duplicate deliveries (repeated event_id at the sink)', ...product.map((p) => fmt(p.duplicates)), '—'],
        ['sticky cache: workflow tasks served from the worker cache / replayed during the run', ...product.map((p) => `${fmt(p.stickyCache?.hits)} / ${fmt(p.stickyCache?.hits === undefined ? undefined : (p.stickyCache.misses ?? 0))}`), '—'],
        ['gRPC calls to Temporal per delivery, API', ...product.map((p) => grpcText(p.grpc.apiPerDelivery, () => true)), '—'],
        ['gRPC calls to Temporal per delivery, worker (non-poll)', ...product.map((p) => grpcText(p.grpc.workerPerDelivery, (n) => !isPoll(n))), '—'],
        ['gRPC long polls per delivery, worker', ...product.map((p) => grpcText(p.grpc.workerPerDelivery, isPoll)), '—'],
      ],
    ),
    '',
  );
  const first = product[0];
  if (first) {
    out.push(`History of a first-try delivery (${first.history.sample.length} events): ${first.history.sample.join(' → ')}`, '');
    out.push(`Ceiling B history (${b.history.sample.length} events): ${b.history.sample.join(' → ')}`, '');
  }
  for (const p of product) {
    const lengths = Object.entries(p.history.lengths ?? {}).map(([events, count]) => `${fmt(count)} × ${events} events`).join(', ');
    out.push(`Fan-out ${p.fanout} history lengths: ${lengths}.${p.history.longest?.length ? ` Longest: ${p.history.longest.join(' → ')}` : ''}`, '');
  }
  out.push('SQL statements per delivery, by statement (counted in the API and worker processes by wrapping `pg.Client.prototype.query`):', '');
  const shapes = new Set<string>();
  for (const p of product) for (const key of [...Object.keys(p.sql.api).map((k) => `api\u0000${k}`), ...Object.keys(p.sql.worker).map((k) => `worker\u0000${k}`)]) shapes.add(key);
  out.push(
    table(
      ['process', 'statement (first 90 characters)', ...product.map((p) => `fan-out ${p.fanout}`)],
      [...shapes].map((key) => {
        const [proc, text] = key.split('\u0000') as ['api' | 'worker', string];
        return [proc, `\`${text.replace(/\|/g, '\\|')}\``, ...product.map((p) => fmt(p.sql[proc][text] ?? 0, 2))];
      }),
    ),
    '',
  );

  out.push('## CPU time per delivery (ms, all cores; machine-dependent)', '');
  const cpuNames = new Set<string>([...Object.keys(b.cpuMsPerWorkflow), ...product.flatMap((p) => Object.keys(p.cpuMsPerDelivery)), ...(peer ? Object.keys(peer.cpuMsPerDelivery) : [])]);
  out.push(
    table(
      ['process', 'ceiling B', ...product.map((p) => `product, fan-out ${p.fanout}`), ...(peer ? ['peer'] : [])],
      [
        ...[...cpuNames].map((name) => [
          name,
          b.cpuMsPerWorkflow[name] !== undefined ? fmt(b.cpuMsPerWorkflow[name], 2) : '—',
          ...product.map((p) => (p.cpuMsPerDelivery[name] !== undefined ? fmt(p.cpuMsPerDelivery[name], 2) : '—')),
          ...(peer ? [peer.cpuMsPerDelivery[name] !== undefined ? fmt(peer.cpuMsPerDelivery[name], 2) : '—'] : []),
        ]),
        ['total', fmt(sum(b.cpuMsPerWorkflow), 2), ...product.map((p) => fmt(sum(p.cpuMsPerDelivery), 2)), ...(peer ? [fmt(sum(peer.cpuMsPerDelivery), 2)] : [])],
      ],
    ),
    '',
  );

  out.push('## Backlog memory', '');
  if (backlog) {
    out.push(
      `${fmt(backlog.deliveries)} deliveries (${fmt(backlog.events)} events × ${backlog.fanout} destinations, ingested through the API in ${fmt(backlog.ingestSeconds, 1)} s) against a sink answering 503, ` +
        `retry policy \`${JSON.stringify(backlog.retryPolicy)}\`. "after" is read once every delivery has failed and waits in Temporal's backoff for its next attempt ` +
        `(${fmt(backlog.failedSeconds, 0)} s after the first ingest; ${fmt(backlog.failedAttempts)} attempts answered 503; ${fmt(backlog.retryingInDatabase)} deliveries \`retrying\` in the database; ` +
        `activity slots in use in the worker then: ${backlog.activitySlotsUsed ?? 'n/a'}; workflows in its sticky cache: ${backlog.stickyCacheSize ?? 'n/a'}). Cleanup: ${backlog.cleanup}.`,
      '',
    );
    out.push(
      table(
        ['RSS (MiB)', 'before', `after: ${fmt(backlog.deliveries)} retrying`, 'peak in between', 'after − before'],
        Object.entries(backlog.rss).map(([name, r]) => [name, fmt(r.before), fmt(r.after), fmt(r.peak), `${r.after - r.before >= 0 ? '+' : ''}${fmt(r.after - r.before)}`]),
      ),
      '',
    );
  } else {
    out.push(`skipped: ${(results.backlog as { skipped: string }).skipped}`, '');
  }

  if (baseline) {
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
      add(`${tag}: deliveries/s end to end`, old?.deliveriesPerSecond, p.deliveriesPerSecond);
      add(`${tag}: ingest → arrival p50 ms`, old?.arrivalP50Ms, p.arrivalP50Ms, 1);
      add(`${tag}: ingest → arrival p99 ms`, old?.arrivalP99Ms, p.arrivalP99Ms, 1);
      add(`${tag}: SQL statements per delivery (API + worker)`, old ? old.sql.apiPerDelivery + old.sql.workerPerDelivery : undefined, p.sql.apiPerDelivery + p.sql.workerPerDelivery, 2);
      add(`${tag}: history events per delivery`, old?.history.eventsMean, p.history.eventsMean, 2);
      add(`${tag}: CPU ms per delivery, all processes`, old ? sum(old.cpuMsPerDelivery) : undefined, sum(p.cpuMsPerDelivery), 2);
    }
    add('ceiling B workflows/s (same machine, for scale)', baseline.ceilingB.workflowsPerSecond, b.workflowsPerSecond);
    out.push(table(['', 'before', 'after', 'change'], rowsBA), '');
  }
  if (existsSync(notesFile)) out.push(readFileSync(notesFile, 'utf8').trim(), '');
  return out.join('\n');
}
