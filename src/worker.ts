import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { setFlagsFromString } from 'node:v8';
import { loadConfigOrExit, warnAboutAllowedCidrs } from './config/boot.js';
import { createHttpApp } from './http-app.js';

/**
 * How far V8 lets a heap grow past what survived its last full GC before collecting again: 1.5×.
 * V8 picks that factor itself (up to 4× once the heap limit is 2 GiB or more, as on any host with
 * 8 GiB of RAM or more) and keeps the pages it grew into until its memory reducer runs, 10 to 30 s
 * after the process goes quiet. A burst of deliveries therefore left the worker holding garbage, not
 * deliveries. Benchmark backlog phase (10,000 deliveries failing once, then waiting in Temporal's
 * server-side backoff; 2 cores), measured per isolate: with V8's factor the main thread's heap
 * reached 388-466 MiB for 115-150 MiB live and worker RSS grew +431 to +556 MiB; at 50 % the main
 * heap stayed at 170-200 MiB through the same burst and RSS grew +180 MiB, flat from the 2,000th
 * delivery on. What is left is glibc keeping the native memory the burst freed (207 MiB of arenas,
 * 168 MiB of it free; MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
 * in the worker's environment took RSS growth to +94 MiB) and the workflow thread's heap for the 500
 * cached workflows (~100 MiB for ~60 live).
 * The flag is process-wide (the workflow thread's isolate follows it too) and read at every GC, so
 * setting it here, before the worker starts, is enough. The price is more frequent, mostly
 * concurrent, full GCs during a burst.
 */
setFlagsFromString('--heap-growing-percent=50');

/** Production worker process: runs delivery workflows and sends the webhooks; serves only /metrics, on METRICS_PORT. */
const config = loadConfigOrExit({ process: 'worker' });
warnAboutAllowedCidrs(config, (message) => new Logger('Worker').warn(message));
const app = await createHttpApp({ config, roles: { api: false, worker: true } });
app.enableShutdownHooks();
await app.listen(config.metricsPort, config.metricsHost);
new Logger('Worker').log(`worker metrics on ${config.metricsHost}:${config.metricsPort} (/metrics)`);
