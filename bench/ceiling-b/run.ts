import type { Client } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { cpuSnapshot, cpuUsed, type ProcessGroups } from '../support/cpu.js';
import { historyCost, type HistoryCost } from '../support/history.js';
import { spawnNode } from '../support/processes.js';
import { phase, ticker } from '../support/progress.js';
import { nowMs, percentile, perSecond, runConcurrently, waitFor } from '../support/stats.js';

export interface CeilingBResult {
  workflows: number;
  concurrency: number;
  startsPerSecond: number;
  startP50Ms: number;
  startP99Ms: number;
  /** Workflows started and completed per second: N / (last close − first start sent). */
  workflowsPerSecond: number;
  history: HistoryCost;
  cpuMsPerWorkflow: Record<string, number>;
}

/**
 * Ceiling B, bare Temporal: N workflows of one no-op activity, started at concurrency C from this
 * process's Temporal client (as the API starts deliveries) and run by a worker process with the
 * product worker's settings. Completion times are read back from Temporal (closeTime).
 */
export async function ceilingB(options: {
  client: Client;
  address: string;
  workflows: number;
  concurrency: number;
  runId: string;
  logDir: string;
  cpuGroups: ProcessGroups;
}): Promise<CeilingBResult> {
  const { client, address, workflows, concurrency, runId, logDir } = options;
  phase(`ceiling B: ${workflows} no-op workflows at concurrency ${concurrency}`);
  const taskQueue = `bench-noop-${runId}`;
  const worker = spawnNode({
    name: 'ceiling-b-worker',
    script: fileURLToPath(new URL('./worker.js', import.meta.url)),
    env: { TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: taskQueue },
    execArgv: ['--enable-source-maps'],
    logDir,
  });
  try {
    await worker.nextMessage('ready', 120_000);
    const start = (id: string) => client.workflow.start('noopWorkflow', { taskQueue, workflowId: id });
    // Completed workflows on this run's task queue, warm-up included.
    const completed = async () => (await client.workflow.count(`TaskQueue="${taskQueue}" AND ExecutionStatus="Completed"`)).count;

    // Warm-up: the worker's pollers and workflow sandbox, the client's connection.
    await runConcurrently(concurrency, concurrency, (i) => start(`noop-${runId}-warmup-${i}`).then(() => undefined));
    await waitFor(async () => (await completed()) >= concurrency, 60_000, 'ceiling B warm-up');

    const groups = { ...options.cpuGroups, 'ceiling-b worker': () => [worker.pid] };
    const cpuBefore = cpuSnapshot(groups);
    const prefix = `noop-${runId}-run-`;
    const latencies: number[] = [];
    let started = 0;
    const stop = ticker(async () => {
      return `${started}/${workflows} started, ${(await completed()) - concurrency} completed`;
    });
    const t0 = nowMs();
    await runConcurrently(workflows, concurrency, async (i) => {
      const sentAt = nowMs();
      await start(`${prefix}${i}`);
      latencies.push(nowMs() - sentAt);
      started += 1;
    });
    const startsDone = nowMs();
    await waitFor(async () => (await completed()) >= concurrency + workflows, 300_000, 'ceiling B workflows to complete', 100);
    stop();
    const cpu = cpuUsed(cpuBefore, cpuSnapshot(groups));

    let lastClose = 0;
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue="${taskQueue}"` })) {
      if (!execution.workflowId.startsWith(prefix)) continue;
      lastClose = Math.max(lastClose, execution.closeTime?.getTime() ?? 0);
      ids.push(execution.workflowId);
    }
    const history = await historyCost(client, ids.slice(0, Math.min(ids.length, 200)));
    return {
      workflows,
      concurrency,
      startsPerSecond: perSecond(workflows, startsDone - t0),
      startP50Ms: percentile(latencies, 50),
      startP99Ms: percentile(latencies, 99),
      workflowsPerSecond: perSecond(workflows, lastClose - t0),
      history,
      cpuMsPerWorkflow: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / workflows])),
    };
  } finally {
    await worker.stop();
  }
}
