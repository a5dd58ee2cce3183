import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL for `npm run dev` without an installed server: PGlite (Postgres compiled to
 * WASM, in this process) behind a socket server that speaks the wire protocol, so TypeORM
 * and `pg` use it exactly like a real server.
 */
export interface EmbeddedPostgres {
  url: string;
  /** Connections the socket server accepts; a larger client pool gets connections refused. */
  maxConnections: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Where PGlite keeps its files; created if missing. One process at a time per folder. */
  dataDir: string;
  /** 0 or unset: a free port. */
  port?: number;
  log: (m: string) => void;
}

/**
 * One connection only. PGlite has a single backend session; the socket server multiplexes
 * clients onto it per protocol message, so with several clients one client's extended-query
 * messages can land in the middle of another's (measured with pglite-socket 0.2.17 and four
 * pooled clients running transactions: `portal "" cannot be run`, then a hang). With one
 * connection the pool queues queries instead, which is plenty for local development.
 */
const MAX_CONNECTIONS = 1;
const HOST = '127.0.0.1';

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, log } = options;
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  const server = new PGLiteSocketServer({ db, host: HOST, port: options.port ?? 0, maxConnections: MAX_CONNECTIONS });
  try {
    await server.start();
  } catch (error) {
    // A taken port must not leave this instance open on dataDir: a retry would open a second one on the same files.
    await db.close();
    throw error;
  }
  // After start() the server reports the port it actually bound, which matters for port 0.
  const port = Number(server.getServerConn().split(':').pop());
  const url = `postgres://postgres@${HOST}:${port}/postgres`;
  log(`Embedded PostgreSQL (PGlite) at ${url}, data in ${dataDir}`);

  let stopped = false;
  return {
    url,
    maxConnections: server.getStats().maxConnections,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      // A clean Postgres shutdown, so the next start on dataDir needs no crash recovery.
      await db.close();
    },
  };
}
