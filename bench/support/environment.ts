import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { projectRoot } from '../../src/config/project-root.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { startEmbeddedTemporal, type EmbeddedTemporal } from '../../dev/embedded-temporal-server.js';
import { locateTemporalCli } from '../../dev/temporal-cli.js';
import { note } from './progress.js';

export const BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/xtracker_bench';

export interface BenchDatabase {
  url: string;
  /** The benchmark's own connection, for waiting on delivery rows; its statements are not counted. */
  pool: pg.Pool;
  created: boolean;
  version: string;
}

/**
 * DATABASE_URL when set (migrated, never dropped); else a dedicated database `xtracker_bench`
 * on the local PostgreSQL, dropped and created afresh.
 */
export async function prepareDatabase(env: Record<string, string | undefined>): Promise<BenchDatabase> {
  const configured = env.DATABASE_URL?.trim();
  const url = configured || BENCH_DATABASE_URL;
  if (!configured) {
    const admin = new URL(url);
    admin.pathname = '/postgres';
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query('DROP DATABASE IF EXISTS xtracker_bench WITH (FORCE)');
      await client.query('CREATE DATABASE xtracker_bench');
    } finally {
      await client.end();
    }
  }
  const applied = await runMigrations({ url, poolSize: 1 });
  note(`database ${redact(url)}${configured ? ' (DATABASE_URL)' : ' (created)'}: ${applied.length} migrations applied`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
  return { url, pool, created: !configured, version: rows[0]!.server_version };
}

export interface BenchTemporal {
  address: string;
  client: Client;
  serverVersion: string;
  embedded: EmbeddedTemporal | undefined;
  /** Version of the temporal CLI binary when the benchmark started the dev server. */
  cliVersion: string | undefined;
}

export async function prepareTemporal(env: Record<string, string | undefined>): Promise<BenchTemporal> {
  let address = env.TEMPORAL_ADDRESS?.trim();
  let embedded: EmbeddedTemporal | undefined;
  let cliVersion: string | undefined;
  if (!address) {
    const root = projectRoot();
    const log = (message: string) => note(message);
    const cli = await locateTemporalCli({ cliPath: env.TEMPORAL_CLI_PATH, projectRoot: root, log });
    if (cli) cliVersion = (await promisify(execFile)(cli, ['--version'])).stdout.trim();
    // In memory, headless: nothing of the benchmark outlives it.
    embedded = await startEmbeddedTemporal({ projectRoot: root, cliPath: env.TEMPORAL_CLI_PATH, namespace: 'default', ui: false, log });
    address = embedded.address;
  }
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default' });
  const info = await connection.workflowService.getSystemInfo({});
  return { address, client, serverVersion: info.serverVersion ?? 'unknown', embedded, cliVersion };
}

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1-minute load average when the run started: other work on the machine skews every rate. */
  loadAverage: number;
  node: string;
  packages: Record<string, string>;
}

export function machineInfo(): MachineInfo {
  const root = projectRoot();
  const version = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'missing';
    }
  };
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg()[0]!,
    node: process.version,
    packages: Object.fromEntries(
      ['@temporalio/client', '@temporalio/worker', '@nestjs/core', 'typeorm', 'pg', 'undici', 'bullmq', 'ioredis'].map((name) => [name, version(name)]),
    ),
  };
}

export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
