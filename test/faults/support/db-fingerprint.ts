import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type pg from 'pg';

/**
 * A digest of every row of every table the service writes (and the list of tables itself): two
 * equal fingerprints mean no request in between changed the database.
 */
export async function databaseFingerprint(db: pg.Client): Promise<string> {
  const { rows } = await db.query(`
    SELECT md5(coalesce(string_agg(row, '|' ORDER BY row), '')) AS digest FROM (
      SELECT 'table ' || tablename AS row FROM pg_tables WHERE schemaname = 'public'
      UNION ALL SELECT 'destination ' || t::text FROM destinations t
      UNION ALL SELECT 'click ' || t::text FROM clicks t
      UNION ALL SELECT 'event ' || t::text FROM events t
      UNION ALL SELECT 'delivery ' || t::text FROM deliveries t
      UNION ALL SELECT 'attempt ' || t::text FROM delivery_attempts t
      UNION ALL SELECT 'migration ' || t::text FROM schema_migrations t
      UNION ALL SELECT 'account ' || t::text FROM accounts t
      -- last_used_at is the key's bookkeeping, written by any request it authenticates: not a change a request asked for.
      UNION ALL SELECT 'api key ' || (t.id, t.account_id, t.name, t.scopes, t.prefix, t.digest, t.created_at)::text FROM api_keys t
    ) rows`);
  return rows[0].digest;
}

/** One request that went through the auditing proxy. */
export interface AuditedRequest {
  method: string;
  path: string;
  status: number;
  databaseChanged: boolean;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'content-length', 'host']);

/**
 * An HTTP proxy in front of the API for a fuzzer that runs in its own process (schemathesis):
 * it passes one request at a time and fingerprints the database before and after each, so the
 * suite can tell exactly which requests changed it.
 */
export class AuditingProxy {
  readonly requests: AuditedRequest[] = [];
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { port: number }, db: pg.Client): Promise<AuditingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new AuditingProxy(server, (server.address() as { port: number }).port);
    server.on('request', (incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        proxy.queue = proxy.queue.then(async () => {
          const before = await databaseFingerprint(db);
          const answer = await forward(target.port, incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers, body);
          const after = await databaseFingerprint(db);
          proxy.requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', status: answer.status, databaseChanged: before !== after });
          outgoing.writeHead(answer.status, answer.headers);
          outgoing.end(answer.body);
        }).catch((error: unknown) => {
          // The API did not answer at all (it died, or hung past a minute): the suite reports it.
          proxy.requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', status: 0, databaseChanged: false });
          outgoing.writeHead(599, { 'content-type': 'text/plain' });
          outgoing.end(`auditing proxy: ${String(error)}`);
        });
      });
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await this.queue;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function forward(port: number, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  const passed: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) passed[name] = value;
  if (body.length > 0 || headers['content-length'] !== undefined) passed['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, headers: passed, timeout: 60_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const returned: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) returned[name] = value;
        resolve({ status: response.statusCode ?? 0, headers: returned, body: Buffer.concat(chunks) });
      });
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('API did not answer within 60 s')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
