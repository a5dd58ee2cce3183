import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One copy of a webhook as the receiver saw it (its whole body arrived). */
interface ReceivedCopy {
  /** Still waiting for its held answer with the sender connected. */
  open: boolean;
  /** The sender went away before the held answer was written (e.g. the worker was killed). */
  abandoned: boolean;
}

/**
 * Per accepted job, the same reading as the fault suite's ledger (test/faults/support/ledger.ts):
 * delivered = at least one copy taken in; lost = none; an extra copy is one that came after a copy
 * had been taken in. This receiver takes in every copy it reads (answered 200, or held for a later
 * 200), so every copy after a job's first is an extra one: a redelivery it never asked for.
 */
export interface CopyLedger {
  accepted: number;
  delivered: number;
  lost: number;
  /** Accepted jobs that reached the receiver more than once. */
  duplicated: number;
  extraCopies: number;
  /** Copies of accepted jobs, extra ones included. */
  copies: number;
  /** Copies held when their sender vanished: counted as taken in, as the fault suite does. */
  abandoned: number;
}

export interface CopyReceiver {
  url: string;
  /**
   * From now on, the first copy of each webhook-id is answered 200 after `ms` (0: at once); any
   * later copy is answered 200 at once. A held copy stands for a receiver still working on it.
   */
  holdFirstCopies(ms: number): void;
  /** Copies held right now with their sender still connected. */
  open(): number;
  /** Copies received so far, of any webhook-id. */
  received(): number;
  /** Distinct webhook-ids received so far. */
  ids(): number;
  /** Copies of webhook-ids that are not in `acceptedIds` (jobs whose enqueue the producer saw fail). */
  copiesOutside(acceptedIds: ReadonlySet<string>): { ids: number; copies: number };
  ledger(acceptedIds: ReadonlySet<string>): CopyLedger;
  close(): Promise<void>;
}

/**
 * The receiver of the peer's fault runs, in the benchmark's own process: it keeps every copy of
 * every `webhook-id`, so that a job sent twice is told from a job sent once. It never refuses a
 * copy, so every retry or redelivery it sees is one it did not ask for.
 */
export async function startCopyReceiver(): Promise<CopyReceiver> {
  const copiesById = new Map<string, ReceivedCopy[]>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let holdMs = 0;
  let received = 0;
  let open = 0;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A sender that dies mid-body never delivered this copy: only a whole request is recorded.
    request.on('end', () => {
      const header = request.headers['webhook-id'];
      const id = (Array.isArray(header) ? header[0] : header) ?? 'missing-webhook-id';
      const copies = copiesById.get(id) ?? [];
      copiesById.set(id, copies);
      const copy: ReceivedCopy = { open: false, abandoned: false };
      const hold = copies.length === 0 ? holdMs : 0;
      copies.push(copy);
      received += 1;
      if (hold === 0) {
        response.writeHead(200, { 'content-length': '0' }).end();
        return;
      }
      copy.open = true;
      open += 1;
      const close = () => {
        if (!copy.open) return;
        copy.open = false;
        open -= 1;
      };
      // The socket closing is how a killed sender shows: the held copy stops being in flight at once.
      response.once('close', () => {
        if (copy.open && !response.writableEnded) copy.abandoned = true;
        close();
      });
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!copy.open) return;
        close();
        response.writeHead(200, { 'content-length': '0' }).end();
      }, hold);
      timers.add(timer);
    });
  });
  // Never the first to close a kept-alive connection: a sender racing that close would see a
  // network error for a copy that has nothing to do with the fault being measured.
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    holdFirstCopies(ms) {
      holdMs = ms;
    },
    open: () => open,
    received: () => received,
    ids: () => copiesById.size,
    copiesOutside(acceptedIds) {
      let ids = 0;
      let copies = 0;
      for (const [id, list] of copiesById) {
        if (acceptedIds.has(id)) continue;
        ids += 1;
        copies += list.length;
      }
      return { ids, copies };
    },
    ledger(acceptedIds) {
      const report: CopyLedger = { accepted: acceptedIds.size, delivered: 0, lost: 0, duplicated: 0, extraCopies: 0, copies: 0, abandoned: 0 };
      for (const id of acceptedIds) {
        const copies = copiesById.get(id) ?? [];
        report.copies += copies.length;
        report.abandoned += copies.filter((copy) => copy.abandoned).length;
        if (copies.length === 0) {
          report.lost += 1;
          continue;
        }
        report.delivered += 1;
        if (copies.length > 1) report.duplicated += 1;
        report.extraCopies += copies.length - 1;
      }
      return report;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
