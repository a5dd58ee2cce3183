import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../src/config/project-root.js';
import { serializeWebhookBody } from '../src/events/webhook-body.js';
import { ceilingB } from './ceiling-b/run.js';
import { renderReport, type BenchResults } from './report.js';
import { backlogRun } from './scenarios/backlog.js';
import { ceilingA } from './scenarios/ceiling-a.js';
import { limiterRun } from './scenarios/limiter.js';
import { noisyNeighbourRun } from './scenarios/noisy-neighbour.js';
import { peerRun, redisReachable } from './scenarios/peer.js';
import { peerFaultsRun } from './scenarios/peer-faults.js';
import { RECOVERY_BENCH_DELIVERIES, recoveryRun } from './scenarios/recovery.js';
import { BENCH_UID, productRun, type ProductResult } from './scenarios/product.js';
import { scaleOutRun } from './scenarios/scale-out.js';
import { soakRun } from './scenarios/soak.js';
import { pidsMatching, postgresPids, type ProcessGroups } from './support/cpu.js';
import { machineInfo, prepareDatabase, prepareTemporal, redact } from './support/environment.js';
import { parseOptions, type BenchPhase } from './support/options.js';
import { stopAll } from './support/processes.js';
import { startProduct, type Product } from './support/product.js';
import { note, phase } from './support/progress.js';
import { redisServerVersion } from './support/redis-server.js';
import { startSink } from './support/sink-client.js';

/**
 * `npm run bench`: ceilings (raw HTTP, bare Temporal), the product (fan-out 1 and F; then with 2
 * APIs and 2 workers), traffic control (noisy neighbour, limiter accuracy), recovery, a soak at half
 * the product's capacity, a BullMQ peer (its speed, then what it loses or
 * duplicates under faults), per-delivery costs and backlog memory, in one run on one machine;
 * `--only` picks phases. See bench/README.md.
 */
const options = parseOptions(process.argv.slice(2), process.env);
const root = projectRoot();
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const logDir = mkdtempSync(join(tmpdir(), 'xtracker-bench-'));
const startedAt = Date.now();
const info = machineInfo();
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';

process.on('SIGINT', () => {
  process.stderr.write('\ninterrupted: stopping the benchmark processes\n');
  void stopAll().finally(() => process.exit(130));
});

const runs = (name: BenchPhase) => options.phases.has(name);
const onlyText = options.partial ? `, only ${[...options.phases].join(', ')}` : '';
console.error(
  `XTRACKER Webhooks benchmark: N=${options.events} C=${options.concurrency} fan-out=${options.fanout} backlog=${options.backlog}${onlyText}, ` +
    `${info.cores} cores, Node ${info.node}; process logs in ${logDir}`,
);

let embeddedStop: (() => Promise<void>) | undefined;
try {
  phase('setup: PostgreSQL, Temporal, sink');
  const db = await prepareDatabase(process.env);
  const temporal = await prepareTemporal(process.env);
  embeddedStop = temporal.embedded?.stop;
  note(`Temporal ${temporal.serverVersion} at ${temporal.address}${temporal.embedded ? ' (dev server started by the benchmark, in memory)' : ' (TEMPORAL_ADDRESS)'}`);
  const sink = await startSink(logDir);
  note(`sink at ${sink.url} (pid ${sink.child.pid})`);
  const temporalPid = temporal.embedded ? pidsMatching('start-dev', `--port ${temporal.address.split(':')[1]}`)[0] : undefined;

  const click = { uid: BENCH_UID, tg_id: 555123, fbclid: 'IwAR-bench', campaign_id: '120001', campaign_name: 'promoX', country: 'IN' };
  const bodyFor = (eventId: string) =>
    serializeWebhookBody({ targetEvent: 'Purchase', canonical: 'deposit', eventId, occurredAtMs: 1_765_432_100_000, click, data: { value: '25.00', currency: 'USD' } });

  const baseGroups: ProcessGroups = {
    'bench (load generator)': () => [process.pid],
    sink: () => [sink.child.pid],
    ...(temporalPid !== undefined ? { 'temporal server': () => [temporalPid] } : {}),
    postgres: postgresPids,
  };

  const a = runs('ceiling-a') ? await ceilingA(sink, bodyFor('0'.repeat(32)), options.rawRequests, options.concurrency) : undefined;
  const b = runs('ceiling-b')
    ? await ceilingB({ client: temporal.client, address: temporal.address, workflows: options.events, concurrency: options.concurrency, runId, logDir, cpuGroups: baseGroups })
    : undefined;

  // Every phase from here on sends through the product; ceilings and the peer alone do not need it.
  const needsProduct =
    runs('product') || runs('scale-out') || runs('noisy') || runs('limiter') || runs('recovery') || runs('soak') || (runs('backlog') && options.backlog > 0);
  const startBenchProduct = async (): Promise<Product> => {
    phase('product: starting API and worker processes (node dist/src/main.js, node dist/src/worker.js)');
    const started = await startProduct({ databaseUrl: db.url, temporalAddress: temporal.address, logDir, concurrency: options.concurrency, runId });
    note(`API pid ${started.api.pid} at ${started.apiUrl}, worker pid ${started.worker.pid}, task queue ${started.taskQueue}`);
    const clickResponse = await started.request('POST', started.tenant('/clicks'), click);
    if (clickResponse.status !== 201 && clickResponse.status !== 200) throw new Error(`creating the click answered ${clickResponse.status}`);
    return started;
  };
  const product = needsProduct ? await startBenchProduct() : undefined;
  const productGroups: ProcessGroups = product ? { ...baseGroups, api: () => [product.api.pid], worker: () => [product.worker.pid] } : baseGroups;

  const productResults: ProductResult[] = [];
  if (product && runs('product')) {
    for (const fanout of [...new Set([1, options.fanout])]) {
      productResults.push(
        await productRun({
          product,
          sink,
          client: temporal.client,
          db: db.pool,
          events: options.events,
          concurrency: options.concurrency,
          fanout,
          runId,
          label: `fanout${fanout}`,
          historySample: fanout === 1 ? options.events : 200,
          cpuGroups: productGroups,
          profileDir: options.profile ? logDir : undefined,
        }),
      );
    }
  }

  // Right after the product's runs, whose fan-out-1 figure (1 API + 1 worker) it is read next to.
  const scaleOut: BenchResults['scaleOut'] =
    product && runs('scale-out')
      ? await scaleOutRun({ product, sink, client: temporal.client, db: db.pool, events: options.events, concurrency: options.concurrency, runId, cpuGroups: baseGroups })
      : { skipped: '--only' };

  // After the product runs, before the peer and the backlog: the backlog leaves thousands of
  // workflows in Temporal's backoff, and these phases measure latency on an otherwise quiet worker.
  const noisy: BenchResults['noisy'] =
    product && runs('noisy')
      ? await noisyNeighbourRun({ product, sink, client: temporal.client, db: db.pool, concurrency: options.concurrency, runId, click })
      : { skipped: '--only' };
  const limiter: BenchResults['limiter'] =
    product && runs('limiter') ? await limiterRun({ product, sink, client: temporal.client, db: db.pool, concurrency: options.concurrency, runId }) : { skipped: '--only' };
  const recovery: BenchResults['recovery'] =
    product && runs('recovery')
      ? await recoveryRun({ product, sink, db: db.pool, deliveries: RECOVERY_BENCH_DELIVERIES, fanout: options.fanout, concurrency: options.concurrency, runId })
      : { skipped: '--only' };

  // Half of the product's capacity as this run measured it (fan-out 1), else as the option says.
  // Before the backlog, whose deliveries in backoff would share the worker with it.
  const measuredCapacity = productResults.find((p) => p.fanout === 1)?.deliveriesPerSecond;
  const soak: BenchResults['soak'] =
    product && runs('soak')
      ? await soakRun({
          product,
          sink,
          client: temporal.client,
          db: db.pool,
          minutes: options.soakMinutes,
          capacityPerSecond: measuredCapacity ?? options.soakCapacity,
          capacitySource: measuredCapacity !== undefined ? 'the product, fan-out 1, in this run' : '--soak-capacity; the product phase was not in this run',
          concurrency: options.concurrency,
          runId,
          temporalPid,
        })
      : { skipped: '--only' };

  const skipPeer = options.skipPeer || !runs('peer');
  let peer: BenchResults['peer'] = { skipped: options.skipPeer ? '--skip-peer' : '--only' };
  const redisVersion = skipPeer ? undefined : await redisReachable(redisUrl);
  if (!skipPeer) {
    peer = redisVersion
      ? await peerRun({ sink, body: bodyFor, jobs: options.events, concurrency: options.concurrency, workerConcurrency: options.peerConcurrency, redisUrl, redisVersion, runId, logDir, cpuGroups: baseGroups })
      : { skipped: `Redis unreachable at ${redact(redisUrl)}` };
  }

  // After the peer's throughput, on redis-servers of its own (never REDIS_URL's): it kills them.
  const redisServer = runs('peer-faults') && !options.skipPeer ? redisServerVersion() : undefined;
  const peerFaults: BenchResults['peerFaults'] = !runs('peer-faults')
    ? { skipped: '--only' }
    : options.skipPeer
      ? { skipped: '--skip-peer' }
      : redisServer
        ? await peerFaultsRun({ redisServer, workerConcurrency: options.peerConcurrency, concurrency: options.concurrency, body: bodyFor, runId, logDir, root })
        : { skipped: 'redis-server not on PATH' };

  const backlog: BenchResults['backlog'] =
    product && runs('backlog') && options.backlog > 0
      ? await backlogRun({ product, sink, client: temporal.client, db: db.pool, deliveries: options.backlog, fanout: options.fanout, concurrency: options.concurrency, runId, temporalPid, externalTemporal: temporal.embedded === undefined })
      : { skipped: runs('backlog') ? '--backlog 0' : '--only' };

  phase('report');
  const results: BenchResults = {
    label: options.label,
    ...(options.partial ? { only: [...options.phases] } : {}),
    info,
    options: { events: options.events, concurrency: options.concurrency, fanout: options.fanout, rawRequests: options.rawRequests, backlog: options.backlog, peerConcurrency: options.peerConcurrency },
    environment: {
      database: db.created ? 'database xtracker_bench created by the benchmark' : 'DATABASE_URL',
      postgres: db.version,
      temporal: temporal.embedded ? 'dev server started by the benchmark, in memory' : 'TEMPORAL_ADDRESS',
      temporalServer: temporal.serverVersion,
      temporalCli: temporal.cliVersion,
      redis: redisVersion,
    },
    durationSeconds: (Date.now() - startedAt) / 1000,
    loadAverageAtEnd: loadavg()[0]!,
    ceilingA: a,
    ceilingB: b,
    product: productResults,
    scaleOut,
    noisy,
    limiter,
    recovery,
    soak,
    peer,
    peerFaults,
    backlog,
  };
  const baselineFile = join(root, 'bench', 'baseline.json');
  const baseline = existsSync(baselineFile) && !options.saveBaseline ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as BenchResults) : undefined;
  const report = renderReport(results, baseline, join(root, 'bench', 'optimisations.md'));
  // A run of some phases would replace bench/RESULTS.md with a report missing the others: unless
  // told where (--out), it goes next to the run's logs.
  const resultsFile = options.partial && !options.resultsFileGiven ? join(logDir, 'RESULTS.md') : resolve(root, options.resultsFile);
  writeFileSync(resultsFile, `${report}\n`);
  writeFileSync(join(logDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (options.saveBaseline) writeFileSync(baselineFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${report}`);
  console.error(`\nreport written to ${resultsFile}; raw figures in ${join(logDir, 'results.json')}${options.saveBaseline ? `; baseline saved to ${baselineFile}` : ''}`);

  await product?.stop();
  await sink.child.stop();
  await temporal.client.connection.close();
  await db.pool.end();
} catch (error) {
  process.exitCode = 1;
  console.error(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nprocess logs: ${logDir}`);
} finally {
  await stopAll();
  await embeddedStop?.();
}
process.exit(process.exitCode ?? 0);
