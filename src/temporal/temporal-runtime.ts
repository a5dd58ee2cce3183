import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { findFreePort } from '../common/free-port.js';
import { rootLogger } from '../logging/root-logger.js';

let sdkMetricsUrl: string | undefined;
let installation: Promise<void> | undefined;

/**
 * Installs the Temporal SDK runtime once per process: its logs go to the service's JSON logger,
 * its metrics to a Prometheus endpoint on loopback that /metrics merges in, and Nest, not the SDK,
 * handles SIGINT/SIGTERM.
 */
export function installTemporalRuntime(): Promise<void> {
  installation ??= install();
  return installation;
}

/** Where the SDK's own worker metrics are served, once the runtime is installed. */
export function temporalSdkMetricsUrl(): string | undefined {
  return sdkMetricsUrl;
}

async function install(): Promise<void> {
  const port = await findFreePort();
  const logger = rootLogger.child({ component: 'temporal-sdk' });
  try {
    Runtime.install({
      shutdownSignals: [],
      logger: new DefaultLogger('WARN', ({ level, message, meta }) => logger[pinoLevel(level)]({ ...meta }, message)),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
    });
    sdkMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  } catch (error) {
    // A test environment installed a runtime first; the worker still runs, without SDK metrics.
    logger.warn({ err: error }, 'Temporal runtime already installed; SDK metrics are not exported');
  }
}

function pinoLevel(level: LogLevel): 'trace' | 'debug' | 'info' | 'warn' | 'error' {
  return level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
}
