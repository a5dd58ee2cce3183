import { connect, createServer, type Server, type Socket } from 'node:net';

type ProxyState = 'open' | 'cut' | 'paused';

/**
 * A TCP proxy on loopback in front of PostgreSQL or Temporal, so a scenario can take a dependency
 * away from one process without stopping the shared server other engineers and test files use.
 *
 * - cut(): every open connection is reset and new ones are refused, as when the server crashes
 *   or the network partitions; restore() lets connections through again.
 * - pause(): connections stay open but no byte moves in either direction, as with a server that
 *   stops answering; resume() delivers what was held back.
 */
export class TcpProxy {
  private state: ProxyState = 'open';
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private readonly held: Array<() => void> = [];
  /** Connections accepted while open, for scenarios that want proof traffic went through. */
  connections = 0;

  private constructor(
    private server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const proxy = new TcpProxy(server, port, target);
    proxy.attach(server);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Resets every connection and refuses new ones (the listening port is closed, so clients get ECONNREFUSED). */
  async cut(): Promise<void> {
    this.state = 'cut';
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.held.splice(0);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens on the same port again after a cut. */
  async restore(): Promise<void> {
    if (this.state !== 'cut') return;
    const server = createServer();
    this.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.state = 'open';
  }

  /** Holds every byte in both directions until resume(). */
  pause(): void {
    if (this.state === 'open') this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'open';
    for (const release of this.held.splice(0)) release();
  }

  async close(): Promise<void> {
    if (this.state !== 'cut') await this.cut();
  }

  private attach(server: Server): void {
    server.on('connection', (client) => this.accept(client));
  }

  private accept(client: Socket): void {
    if (this.state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    this.connections += 1;
    const upstream = connect(this.target);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.state === 'open') {
        to.write(chunk);
        return;
      }
      if (this.state === 'paused') {
        // Keep order: stop reading until released, then write what was read.
        from.pause();
        this.held.push(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        });
      }
    });
  }
}
