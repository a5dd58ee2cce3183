import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  receivedAtMs: number;
}

/** What the receiver does with the n-th request (0-based). */
export type ReceiverReply =
  /** `delayMs`: the answer waits that long, so requests overlap (counted in `maxInFlight`). */
  | { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number }
  /** Answers with the request's headers in its body: as a JSON object, or as `name: value` lines. */
  | { status: number; echoHeaders: 'json' | 'text' }
  /**
   * Sends the status line and headers at once, then one chunk of body every `intervalMs`
   * (`count` chunks), then ends the body or resets the connection. Stops when the client goes away.
   */
  | { status: number; trickle: { chunk: string; intervalMs: number; count: number; then: 'end' | 'reset' } }
  | { hang: true };

/**
 * A real HTTP receiver on loopback that records every request and answers from a script,
 * e.g. [503, 503, 200]; the last entry repeats.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted, whether or not a request followed. */
  connections = 0;
  /** Requests being answered right now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly sockets = new Set<Socket>();
  private replies: ReceiverReply[] = [{ status: 200 }];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => void receiver.handle(request, response));
    server.on('connection', (socket) => {
      receiver.connections += 1;
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Sets the script of replies, numbers being plain status codes. */
  replyWith(...replies: Array<number | ReceiverReply>): this {
    this.replies = replies.map((reply) => (typeof reply === 'number' ? { status: reply } : reply));
    return this;
  }

  bodiesFor(eventId: string): string[] {
    return this.requests.filter((request) => request.headers['webhook-id'] === eventId).map((request) => request.body);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      this.inFlight -= 1;
    };
    response.on('close', done);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const index = this.requests.length;
    this.requests.push({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAtMs: Date.now(),
    });
    const reply = this.replies[Math.min(index, this.replies.length - 1)]!;
    if ('hang' in reply) return;
    if ('echoHeaders' in reply) {
      const echo =
        reply.echoHeaders === 'json'
          ? JSON.stringify({ headers: request.headers })
          : Object.entries(request.headers).map(([name, value]) => `${name}: ${String(value)}`).join('\n');
      response.writeHead(reply.status, { 'content-type': reply.echoHeaders === 'json' ? 'application/json' : 'text/plain' });
      response.end(echo);
      return;
    }
    if ('trickle' in reply) {
      this.trickle(response, reply.status, reply.trickle);
      return;
    }
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    response.writeHead(reply.status, reply.headers);
    response.end(reply.body ?? '');
  }

  private trickle(response: ServerResponse, status: number, { chunk, intervalMs, count, then }: Extract<ReceiverReply, { trickle: unknown }>['trickle']): void {
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < count) {
        response.write(chunk);
        sent += 1;
        return;
      }
      clearInterval(timer);
      if (then === 'reset') response.socket?.destroy();
      else response.end();
    }, intervalMs);
    response.on('close', () => clearInterval(timer));
  }
}
