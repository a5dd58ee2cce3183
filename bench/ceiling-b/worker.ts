import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { DELIVERY_WORKER_TUNING } from '../../src/temporal/delivery-worker.service.js';
import { installTemporalRuntime } from '../../src/temporal/temporal-runtime.js';

/**
 * Ceiling B's worker, a process of its own like the product's worker, with the same runtime
 * (installTemporalRuntime) and the same tuning (DELIVERY_WORKER_TUNING); its activity does nothing.
 */
const address = process.env.TEMPORAL_ADDRESS!;
const taskQueue = process.env.TEMPORAL_TASK_QUEUE!;
await installTemporalRuntime();
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./workflows.js', import.meta.url)),
  activities: { async noop(): Promise<void> {} },
  ...DELIVERY_WORKER_TUNING,
  // For tuning experiments only: JSON worker options layered over the product's.
  ...(process.env.BENCH_WORKER_OPTIONS ? (JSON.parse(process.env.BENCH_WORKER_OPTIONS) as object) : {}),
});
process.on('SIGTERM', () => worker.shutdown());
const running = worker.run();
process.send?.({ type: 'ready' });
await running;
await connection.close();
process.exit(0);
