import { Client, Connection } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../src/config/project-root.js';
import { CANONICAL_EVENT, DELIVERY_STATUS, DESTINATION_ID, TARGET_EVENT } from '../../contract/search-attributes.js';
import { startEmbeddedTemporal } from '../../dev/embedded-temporal-server.js';
import { pidsMatching } from '../support/cpu.js';
import { readCpuMs, spawnNode, stopAll } from '../support/processes.js';
import { runConcurrently, sleep, waitFor } from '../support/stats.js';

/**
 * Diagnostic, not part of `npm run bench`: what the delivery workflow's shape costs the Temporal
 * server, on ceiling B's worker. Runs N no-op workflows per variant (plain; with the delivery
 * workflow's activity options, search attributes, memo and upsert; without the heartbeat timeout;
 * without the search attributes) and prints server and worker CPU per workflow, counting the 30 s
 * after each run so that timers set by the run are charged to it.
 * Usage: node dist/bench/ceiling-b/shape-diagnostic.js [N=400] [rounds=1]
 */
const workflows = Number(process.argv[2] ?? 400);
const rounds = Number(process.argv[3] ?? 1);
const concurrency = 32;
const SETTLE_MS = 30_000;

const temporal = await startEmbeddedTemporal({ projectRoot: projectRoot(), cliPath: process.env.TEMPORAL_CLI_PATH, namespace: 'default', ui: false, log: () => undefined });
const serverPid = pidsMatching('start-dev', `--port ${temporal.address.split(':')[1]}`)[0];
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection });
const taskQueue = 'shape-diagnostic';
const worker = spawnNode({
  name: 'shape-worker',
  script: fileURLToPath(new URL('./worker.js', import.meta.url)),
  env: { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: taskQueue },
  logDir: '/tmp',
});
await worker.nextMessage('ready', 120_000);

const productStart = {
  workflowIdReusePolicy: 'REJECT_DUPLICATE',
  workflowIdConflictPolicy: 'USE_EXISTING',
  typedSearchAttributes: [
    { key: DESTINATION_ID, value: '6b1f3c9e-1111-4222-8333-944445555666' },
    { key: CANONICAL_EVENT, value: 'deposit' },
    { key: TARGET_EVENT, value: 'Purchase' },
    { key: DELIVERY_STATUS, value: 'pending' },
  ],
  memo: { destination_name: 'bench destination' },
} as const;

async function variant(name: string, workflowType: string, args: unknown[], startOptions: object): Promise<void> {
  const serverBefore = readCpuMs(serverPid)!;
  const workerBefore = readCpuMs(worker.pid)!;
  const started = Date.now();
  await runConcurrently(workflows, concurrency, async (i) => {
    await client.workflow.start(workflowType, { taskQueue, workflowId: `${name}-${i}`, args, ...startOptions });
  });
  const query = `WorkflowId STARTS_WITH "${name}-" AND ExecutionStatus="Completed"`;
  await waitFor(async () => (await client.workflow.count(query)).count >= workflows, 600_000, name, 100);
  const elapsed = Date.now() - started;
  await sleep(SETTLE_MS);
  const server = (readCpuMs(serverPid)! - serverBefore) / workflows;
  const workerMs = (readCpuMs(worker.pid)! - workerBefore) / workflows;
  console.log(`${name.padEnd(28)} ${((workflows * 1000) / elapsed).toFixed(1).padStart(6)} wf/s   server ${server.toFixed(2)} ms/wf   worker ${workerMs.toFixed(2)} ms/wf`);
}

try {
  await variant('warm-up', 'noopWorkflow', [], {});
  const idleBefore = readCpuMs(serverPid)!;
  await sleep(SETTLE_MS);
  console.log(`server idle: ${((readCpuMs(serverPid)! - idleBefore) / (SETTLE_MS / 1000)).toFixed(1)} ms CPU per second (included ${SETTLE_MS / 1000} s per variant)`);
  for (let round = 0; round < rounds; round++) {
    await variant(`plain-${round}`, 'noopWorkflow', [], {});
    await variant(`delivery-shaped-${round}`, 'deliveryShapedNoopWorkflow', [{ heartbeat: true, upsert: true }], productStart);
    await variant(`no-heartbeat-timeout-${round}`, 'deliveryShapedNoopWorkflow', [{ heartbeat: false, upsert: true }], productStart);
    await variant(`no-search-attributes-${round}`, 'deliveryShapedNoopWorkflow', [{ heartbeat: true, upsert: false }], {});
  }
} finally {
  await stopAll();
  await connection.close();
  await temporal.stop();
}
process.exit(0);
