import { Connection, Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseArgs } from 'node:util';

/**
 * `npm run xtw -- <command>`: the operator tasks that have no screen. It talks to the API over
 * HTTP with a service key (XTW_API_KEY, at XTW_API_URL) like any client, so it needs no database
 * access and is bound by the same rules; only `history` also reads Temporal (TEMPORAL_ADDRESS).
 * A function of its environment and output streams, so tests run it in-process.
 */

export interface XtwIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  /** How long `recover` waits between progress reads. */
  pollIntervalMs?: number;
}

const USAGE = `usage: npm run xtw -- <command> [options]

  deliveries      --account A [--destination D] [--status S] [--limit N]   list deliveries, newest first
  recover         --account A [--destination D] --since T [--until T] [--status S]...
                                                                            start a recovery and follow it
  recovery-cancel --account A --id R                                        cancel a running recovery
  history         --account A --event-id E                                  a delivery and its Temporal history

environment: XTW_API_KEY (a service key, required), XTW_API_URL (default http://127.0.0.1:3000),
             TEMPORAL_ADDRESS (default 127.0.0.1:7233) and TEMPORAL_NAMESPACE (default default) for history
`;

class UsageError extends Error {}

export async function runXtw(argv: string[], io: XtwIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const api = new ApiClient(io.env);
    switch (command) {
      case 'deliveries':
        return await deliveries(api, rest, io);
      case 'recover':
        return await recover(api, rest, io);
      case 'recovery-cancel':
        return await recoveryCancel(api, rest, io);
      case 'history':
        return await history(api, rest, io);
      case undefined:
      case 'help':
      case '--help':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`xtw: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`xtw: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

class ApiClient {
  private readonly baseUrl: string;
  private readonly key: string | undefined;

  constructor(env: Record<string, string | undefined>) {
    this.baseUrl = (env.XTW_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
    this.key = env.XTW_API_KEY;
  }

  async call(method: string, path: string, body?: unknown): Promise<any> {
    if (!this.key) throw new UsageError('XTW_API_KEY is not set: export a service key (one of API_KEYS)');
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) {
      const message = (parsed as { message?: unknown } | undefined)?.message;
      throw new Error(`${method} ${path} answered ${response.status}: ${Array.isArray(message) ? message.join('; ') : String(message ?? text)}`);
    }
    return parsed;
  }
}

function accountPath(account: string | undefined, suffix: string): string {
  if (!account) throw new UsageError('--account is required');
  return `/v1/accounts/${encodeURIComponent(account)}${suffix}`;
}

async function deliveries(api: ApiClient, args: string[], io: XtwIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { account: { type: 'string' }, destination: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string', default: '50' } },
    strict: true,
  });
  const query = new URLSearchParams({ limit: values.limit });
  if (values.destination) query.set('destination_id', values.destination);
  if (values.status) query.set('status', values.status);
  const page = await api.call('GET', accountPath(values.account, `/deliveries?${query}`));
  const rows = (page.items as Array<Record<string, unknown>>).map((item) => [
    String(item.event_id),
    String(item.status),
    String(item.event),
    String(item.destination_id),
    String(item.attempt_count),
    String(item.created_at),
    item.test ? 'test' : '',
  ]);
  io.stdout.write(table(['EVENT_ID', 'STATUS', 'EVENT', 'DESTINATION', 'ATTEMPTS', 'CREATED', ''], rows));
  io.stdout.write(`${rows.length} deliveries${page.next_cursor ? ' (more: raise --limit, up to 200)' : ''}\n`);
  return 0;
}

async function recover(api: ApiClient, args: string[], io: XtwIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      account: { type: 'string' },
      destination: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      status: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.since) throw new UsageError('--since is required, e.g. --since 2026-12-01T00:00:00Z');
  const body = { since: values.since, ...(values.until ? { until: values.until } : {}), ...(values.status ? { statuses: values.status } : {}) };
  const path = values.destination ? accountPath(values.account, `/destinations/${encodeURIComponent(values.destination)}/recover`) : accountPath(values.account, '/recover');
  const { id } = await api.call('POST', path, body);
  io.stdout.write(`recovery ${id} started\n`);
  for (;;) {
    const recovery = await api.call('GET', accountPath(values.account, `/recoveries/${id}`));
    io.stdout.write(progressLine(recovery, io.stdout.isTTY === true));
    if (recovery.state !== 'running') {
      io.stdout.write(
        `\n${recovery.state}: matched ${recovery.matched}, retried ${recovery.retried}, skipped ${recovery.skipped}` +
          (recovery.skipped_destination_deleted > 0 ? ` (${recovery.skipped_destination_deleted} of a deleted destination)` : '') +
          (recovery.error ? `; ${recovery.error}` : '') +
          '\n',
      );
      return recovery.state === 'completed' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, io.pollIntervalMs ?? 1_000));
  }
}

const BAR_WIDTH = 30;

/** One line of progress; on a terminal it redraws itself in place, elsewhere each read is its own line. */
export function progressLine(recovery: { total: number | null; matched: number; retried: number; skipped: number }, inPlace: boolean): string {
  const total = recovery.total ?? 0;
  const fraction = total === 0 ? (recovery.total === 0 ? 1 : 0) : Math.min(1, recovery.matched / total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
  const figures = `${recovery.matched}/${recovery.total ?? '?'} matched, ${recovery.retried} retried, ${recovery.skipped} skipped`;
  return inPlace ? `\r${bar} ${figures}\u001b[K` : `${bar} ${figures}\n`;
}

async function recoveryCancel(api: ApiClient, args: string[], io: XtwIo): Promise<number> {
  const { values } = parseArgs({ args, options: { account: { type: 'string' }, id: { type: 'string' } }, strict: true });
  if (!values.id) throw new UsageError('--id is required');
  const recovery = await api.call('POST', accountPath(values.account, `/recoveries/${encodeURIComponent(values.id)}/cancel`));
  io.stdout.write(`recovery ${recovery.id} ${recovery.state}: retried ${recovery.retried} before it stopped\n`);
  return 0;
}

async function history(api: ApiClient, args: string[], io: XtwIo): Promise<number> {
  const { values } = parseArgs({ args, options: { account: { type: 'string' }, 'event-id': { type: 'string' } }, strict: true });
  const eventId = values['event-id'];
  if (!eventId) throw new UsageError('--event-id is required');
  const delivery = await api.call('GET', accountPath(values.account, `/deliveries/${encodeURIComponent(eventId)}`));
  io.stdout.write(
    table(
      ['FIELD', 'VALUE'],
      [
        ['event_id', delivery.event_id],
        ['status', delivery.status],
        ['event', `${delivery.event} (${delivery.canonical})`],
        ['destination', delivery.destination_id],
        ['attempts', String(delivery.attempt_count)],
        ['last_error', delivery.last_error ?? ''],
        ['next_attempt_at', delivery.next_attempt_at ?? ''],
        ['test', String(delivery.test)],
        ['created_at', delivery.created_at],
        ['completed_at', delivery.completed_at ?? ''],
        ['workflow_id', delivery.workflow_id],
      ],
    ),
  );
  if (delivery.attempts.length > 0) {
    io.stdout.write('\nattempts\n');
    io.stdout.write(
      table(
        ['#', 'STARTED', 'MS', 'STATUS', 'ERROR'],
        (delivery.attempts as Array<Record<string, unknown>>).map((attempt) => [
          String(attempt.attempt),
          String(attempt.started_at),
          String(attempt.duration_ms),
          attempt.status_code === null ? '' : String(attempt.status_code),
          String(attempt.error ?? ''),
        ]),
      ),
    );
  }
  const connection = await Connection.connect({ address: io.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  try {
    const client = new Client({ connection, namespace: io.env.TEMPORAL_NAMESPACE ?? 'default' });
    // The latest run: a retried delivery has one run per retry under the same workflow id.
    const { events } = await client.workflow.getHandle(delivery.workflow_id).fetchHistory();
    io.stdout.write(`\nTemporal history of ${delivery.workflow_id} (latest run)\n`);
    io.stdout.write(table(['#', 'EVENT', 'TIME', 'DETAILS'], (events ?? []).map((event) => historyRow(event))));
  } finally {
    await connection.close();
  }
  return 0;
}

/** A history event as a row: its type without the enum prefix, its time, and the few facts an operator reads. */
export function historyRow(event: temporal.api.history.v1.IHistoryEvent): string[] {
  const type = (temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType))
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
  const seconds = Number(event.eventTime?.seconds ?? 0);
  const time = new Date(seconds * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6)).toISOString();
  const attributes = Object.entries(event).find(([key, value]) => key.endsWith('EventAttributes') && value)?.[1] as Record<string, any> | undefined;
  const details: string[] = [];
  if (attributes) {
    if (attributes.workflowType?.name) details.push(`workflow ${attributes.workflowType.name}`);
    if (attributes.activityType?.name) details.push(`activity ${attributes.activityType.name}`);
    if (attributes.signalName) details.push(`signal ${attributes.signalName}`);
    if (attributes.startToFireTimeout) {
      const timerMs = Number(attributes.startToFireTimeout.seconds ?? 0) * 1000 + Math.round((attributes.startToFireTimeout.nanos ?? 0) / 1e6);
      details.push(`timer ${timerMs / 1000} s`);
    }
    // The SDK records each local activity (a delivery's first attempt) as a marker of this name.
    if (attributes.markerName === 'core_local_activity') details.push('local activity');
    if (attributes.attempt > 1) details.push(`attempt ${attributes.attempt}`);
    if (attributes.failure?.message) details.push(`failure: ${attributes.failure.message}`);
    // A started activity retried by the server carries the failure of the attempt before it.
    if (attributes.lastFailure?.message) details.push(`previous attempt: ${attributes.lastFailure.message}`);
    if (attributes.cause !== undefined && attributes.cause !== 0) details.push(`cause ${attributes.cause}`);
  }
  return [String(event.eventId ?? ''), type, time, details.join('; ')];
}

/** Left-aligned columns, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
