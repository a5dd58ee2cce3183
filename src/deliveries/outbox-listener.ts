import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OUTBOX_CHANNEL, OutboxSignal } from './outbox-signal.js';

const RECONNECT_MS = 2_000;

/**
 * One dedicated PostgreSQL connection per dispatcher process, LISTENing on the outbox channel, so
 * a commit in any API process wakes the dispatchers at once instead of at their next poll. The
 * poll stays as the safety net: a notification is lost while this connection is down, so every
 * reconnect wakes the dispatcher too.
 */
@Injectable()
export class OutboxListener implements OnApplicationShutdown {
  private readonly logger = new Logger(OutboxListener.name);
  private client: pg.Client | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signal: OutboxSignal,
  ) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, application_name: 'xtracker-outbox-listener' });
    client.on('notification', () => this.signal.wake());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, undefined));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.signal.wake();
    } catch (error) {
      this.lost(client, error);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners();
    // An 'error' after a failed connect or query would otherwise be unhandled.
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.logger.warn(`outbox LISTEN connection lost${error ? ` (${(error as Error).message})` : ''}; reconnecting in ${RECONNECT_MS / 1000} s, polling meanwhile`);
    this.reconnect = setTimeout(() => void this.start(), RECONNECT_MS);
    this.reconnect.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
