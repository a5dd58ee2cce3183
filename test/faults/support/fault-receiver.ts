import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the receiver does with one request:
 * - reply: answers at once with the status (2xx acknowledges, anything else refuses);
 * - hold: answers 200 after ms or at releaseHeld(), if the sender is still connected by then (a slow receiver);
 * - hang: never answers, and drops the connection after ms (a receiver past the sender's timeout);
 * - reset: resets the TCP connection right after reading the request.
 */
export type Reply =
  | { kind: 'reply'; status: number; headers?: Record<string, string> }
  | { kind: 'hold'; ms: number }
  | { kind: 'hang'; ms: number }
  | { kind: 'reset' };

/** One copy of a webhook as the receiver saw it. */
export interface Copy {
  path: string;
  webhookId: string | undefined;
  body: string;
  receivedAtMs: number;
  reply: Reply;
  /** Whether the receiver acknowledged this copy with a 2xx that reached the socket. */
  acknowledged: boolean;
  /** The sender went away before a held copy was answered (e.g. the worker was killed). */
  abandoned: boolean;
  /** When the exchange ended (answer written, or connection gone); unset while it is still open. */
  endedAtMs?: number;
}

export interface IncomingCopy {
  path: string;
  eventId: string;
  /** 0 for the first copy of this event_id, 1 for the second, … */
  copyIndex: number;
}

/** Decides the reply to each copy; may act on the world first (cut a database, …). */
export type ReplyPolicy = (copy: IncomingCopy) => Reply | Promise<Reply>;

export const ok: Reply = { kind: 'reply', status: 200 };

/**
 * A real HTTP receiver on loopback for the fault scenarios: every copy of every webhook is kept
 * with how it was answered, so the ledger can tell a copy the receiver asked for (after it refused
 * an earlier one) from an extra copy it never asked for.
 */
export class FaultReceiver {
  private readonly copiesByEventId = new Map<string, Copy[]>();
  private readonly sockets = new Set<Socket>();
  /** Replies not given yet: held copies (answered later) and hanging ones (dropped later). */
  private readonly waiting = new Map<NodeJS.Timeout, { kind: 'hold' | 'hang'; action: () => void }>();
  private policy: ReplyPolicy = () => ok;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FaultReceiver> {
    const server = createServer();
    // Never the first to close an idle keep-alive connection: a sender racing a close would see a
    // network error for a request the receiver never got, and the attempt counts would disagree
    // for a reason that has nothing to do with the service.
    server.keepAliveTimeout = 120_000;
    const receiver = new FaultReceiver(server);
    server.on('request', (request, response) => void receiver.handle(request, response));
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  setPolicy(policy: ReplyPolicy): this {
    this.policy = policy;
    return this;
  }

  copies(eventId: string): Copy[] {
    return this.copiesByEventId.get(eventId) ?? [];
  }

  allCopies(): Map<string, Copy[]> {
    return this.copiesByEventId;
  }

  totalCopies(): number {
    let total = 0;
    for (const copies of this.copiesByEventId.values()) total += copies.length;
    return total;
  }

  /** Every copy that arrived at `path`, in order of arrival. */
  copiesAt(path: string): Copy[] {
    const copies: Copy[] = [];
    for (const list of this.copiesByEventId.values()) copies.push(...list.filter((copy) => copy.path === path));
    return copies.sort((a, b) => a.receivedAtMs - b.receivedAtMs);
  }

  /** Copies being held right now (the sender waits for the answer). */
  held(): number {
    return [...this.waiting.values()].filter((entry) => entry.kind === 'hold').length;
  }

  /** Answers every held copy now (200, where the sender is still connected). */
  releaseHeld(): void {
    for (const [timer, entry] of this.waiting) {
      if (entry.kind !== 'hold') continue;
      clearTimeout(timer);
      this.waiting.delete(timer);
      entry.action();
    }
  }

  async close(): Promise<void> {
    for (const timer of this.waiting.keys()) clearTimeout(timer);
    this.waiting.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer);
    } catch {
      return; // the sender went away mid-body: no copy was received
    }
    const header = request.headers['webhook-id'];
    const webhookId = Array.isArray(header) ? header[0] : header;
    const body = Buffer.concat(chunks).toString('utf8');
    const eventId = webhookId ?? 'missing-webhook-id';
    const copies = this.copiesByEventId.get(eventId) ?? [];
    this.copiesByEventId.set(eventId, copies);
    const copyIndex = copies.length;
    // Recorded before the policy runs, so a policy that waits cannot reorder copies.
    const copy: Copy = { path: request.url ?? '', webhookId, body, receivedAtMs: Date.now(), reply: ok, acknowledged: false, abandoned: false };
    copies.push(copy);
    // The request is in flight at the receiver from its arrival until the answer is out or the sender is gone.
    response.once('close', () => {
      copy.endedAtMs = Date.now();
    });
    const reply = await this.policy({ path: copy.path, eventId, copyIndex });
    copy.reply = reply;
    switch (reply.kind) {
      case 'reply':
        this.answer(copy, response, reply.status, reply.headers);
        return;
      case 'reset':
        request.socket.resetAndDestroy();
        return;
      case 'hang':
        this.after('hang', reply.ms, () => request.socket.destroy());
        return;
      case 'hold':
        this.after('hold', reply.ms, () => {
          if (request.socket.destroyed) copy.abandoned = true;
          else this.answer(copy, response, 200);
        });
        return;
    }
  }

  private answer(copy: Copy, response: ServerResponse, status: number, headers?: Record<string, string>): void {
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(status >= 200 && status < 300 ? 'ok' : 'no');
    copy.acknowledged = status >= 200 && status < 300;
  }

  private after(kind: 'hold' | 'hang', ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      action();
    }, ms);
    this.waiting.set(timer, { kind, action });
  }
}
