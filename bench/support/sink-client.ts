import { fileURLToPath } from 'node:url';
import { spawnNode, type BenchChild } from './processes.js';

export interface SinkStats {
  requests: number;
  /** TCP connections accepted. */
  connections: number;
  /** Distinct webhook-ids seen. */
  ids: number;
  /** Distinct webhook-ids answered 2xx. */
  succeeded: number;
  /** Fewest requests any seen id got. */
  minAttempts: number;
  /** Requests for an id already seen. */
  repeated: number;
}

export interface Sink {
  child: BenchChild;
  url: string;
  reset(): Promise<void>;
  answer(status: number): Promise<void>;
  stats(): Promise<SinkStats>;
  /** First arrival time (epoch ms, fractional) per webhook-id; successOnly: first 2xx arrival. */
  arrivals(successOnly?: boolean): Promise<Map<string, number>>;
}

export async function startSink(logDir: string): Promise<Sink> {
  const child = spawnNode({ name: 'sink', script: fileURLToPath(new URL('../sink.js', import.meta.url)), env: {}, logDir });
  const { port } = await child.nextMessage<{ port: number }>('ready', 20_000);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    reset: async () => void (await child.call({ type: 'reset' })),
    answer: async (status) => void (await child.call({ type: 'answer', status })),
    stats: () => child.call<SinkStats>({ type: 'stats' }),
    async arrivals(successOnly = false) {
      const reply = await child.call<{ arrivals: Array<[string, number]> }>({ type: 'arrivals', successOnly }, 60_000);
      return new Map(reply.arrivals);
    },
  };
}
