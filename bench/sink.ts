import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark's webhook receiver, in a process of its own: answers at once (200, or 503 while
 * told to fail) and records when each `webhook-id` (the event_id) arrived. Controlled over IPC.
 */
const firstArrival = new Map<string, number>();
const firstSuccess = new Map<string, number>();
const attempts = new Map<string, number>();
let requests = 0;
/** TCP connections accepted: shows whether senders reuse keep-alive connections. */
let connections = 0;
let answerStatus = 200;

const server = createServer((request, response) => {
  const arrivedAt = performance.timeOrigin + performance.now();
  requests += 1;
  const header = request.headers['webhook-id'];
  const id = Array.isArray(header) ? header[0] : header;
  const status = answerStatus;
  if (id !== undefined) {
    if (!firstArrival.has(id)) firstArrival.set(id, arrivedAt);
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
    if (status < 300 && !firstSuccess.has(id)) firstSuccess.set(id, arrivedAt);
  }
  // The body is not needed: Node discards what is left of it once the response has ended.
  request.resume();
  response.writeHead(status, { 'content-length': '0' });
  response.end();
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => {
  connections += 1;
});

type Command =
  | { type: 'reset'; seq: number }
  | { type: 'answer'; status: number; seq: number }
  | { type: 'stats'; seq: number }
  | { type: 'arrivals'; seq: number; successOnly?: boolean };

process.on('message', (command: Command) => {
  const reply = (body: Record<string, unknown>) => process.send?.({ seq: command.seq, ...body });
  switch (command.type) {
    case 'reset':
      firstArrival.clear();
      firstSuccess.clear();
      attempts.clear();
      requests = 0;
      connections = 0;
      return reply({});
    case 'answer':
      answerStatus = command.status;
      return reply({});
    case 'stats': {
      let minAttempts = Number.POSITIVE_INFINITY;
      let repeated = 0;
      for (const count of attempts.values()) {
        minAttempts = Math.min(minAttempts, count);
        repeated += count - 1;
      }
      return reply({
        requests,
        connections,
        ids: firstArrival.size,
        succeeded: firstSuccess.size,
        minAttempts: Number.isFinite(minAttempts) ? minAttempts : 0,
        // Requests for an id already seen: retries while failing, duplicates while answering 200.
        repeated,
      });
    }
    case 'arrivals': {
      const source = command.successOnly ? firstSuccess : firstArrival;
      return reply({ arrivals: [...source.entries()], attempts: [...attempts.entries()] });
    }
  }
});

server.listen(Number(process.env.SINK_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', port });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
