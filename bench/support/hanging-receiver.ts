import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the hanging receiver saw since it started. */
export interface HangingStats {
  /** Requests whose headers arrived (each one an attempt the product sent). */
  requests: number;
  /** Distinct webhook-ids among them. */
  ids: number;
  /** TCP connections accepted. */
  connections: number;
  /** Requests still open now: sent, never answered, not yet given up by the sender. */
  open: number;
  /** The most requests open at once. */
  peakOpen: number;
  /** When each request ended (the sender gave up: its timeout), epoch ms, in order. */
  closedAtMs: number[];
}

export interface HangingReceiver {
  url: string;
  stats(): HangingStats;
  /** Drops every connection it holds and stops listening. */
  close(): Promise<void>;
}

/**
 * A receiver that accepts the connection, reads the request and never answers: the worst a
 * destination can do to a sender, since every attempt lasts its whole timeout. It lives in the
 * benchmark's own process (the load generator), not in the sink: holding a few dozen idle sockets
 * costs nothing there, and the sink's arrival times stay those of the healthy destination alone.
 */
export async function startHangingReceiver(): Promise<HangingReceiver> {
  const sockets = new Set<Socket>();
  const ids = new Set<string>();
  let requests = 0;
  let connections = 0;
  let open = 0;
  let peakOpen = 0;
  const closedAtMs: number[] = [];
  const server = createServer((request: IncomingMessage) => {
    requests += 1;
    open += 1;
    peakOpen = Math.max(peakOpen, open);
    const header = request.headers['webhook-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) ids.add(id);
    // Read the body so the sender's write completes and it waits for an answer that never comes.
    request.resume();
    request.socket.once('close', () => {
      open -= 1;
      closedAtMs.push(Date.now());
    });
  });
  // Node's defaults would end an idle request after 5 minutes or a kept-alive socket after 5 s;
  // neither must happen before the sender's own timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 0;
  server.timeout = 0;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, ids: ids.size, connections, open, peakOpen, closedAtMs: [...closedAtMs] }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
