import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

const log = (): void => undefined;

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let running: EmbeddedPostgres | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'xtracker-pglite-'));
  });

  afterAll(async () => {
    // Only reached with a server still running when an assertion failed before stop().
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the pg driver and keeps data across restarts on the same folder', async () => {
    // A nested folder proves startEmbeddedPostgres creates it.
    const folder = join(dataDir, 'db');
    running = await startEmbeddedPostgres({ dataDir: folder, port: 0, log });
    expect(running.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(running.maxConnections).toBeGreaterThanOrEqual(1);

    const first = new pg.Client({ connectionString: running.url });
    await first.connect();
    await first.query('create table notes (id int primary key, body text not null)');
    await first.query('insert into notes (id, body) values ($1, $2)', [1, 'kept']);
    expect((await first.query('select body from notes where id = $1', [1])).rows).toEqual([{ body: 'kept' }]);
    await first.end();
    await running.stop();
    running = undefined;

    running = await startEmbeddedPostgres({ dataDir: folder, log });
    const second = new pg.Client({ connectionString: running.url });
    await second.connect();
    expect((await second.query('select id, body from notes')).rows).toEqual([{ id: 1, body: 'kept' }]);
    await second.end();
    await running.stop();
    running = undefined;
  }, 60_000);

  it('works as a TypeORM data source with the pool sized to maxConnections', async () => {
    running = await startEmbeddedPostgres({ dataDir: join(dataDir, 'typeorm'), log });
    const dataSource = new DataSource({ type: 'postgres', url: running.url, extra: { max: running.maxConnections } });
    await dataSource.initialize();
    expect(await dataSource.query('select 1 as one')).toEqual([{ one: 1 }]);
    // Several queries at once must queue in the pool, not be refused by the socket server.
    const results = await Promise.all([1, 2, 3, 4].map((n) => dataSource.query('select $1::int as n', [n])));
    expect(results.map(([row]) => row.n)).toEqual([1, 2, 3, 4]);
    await dataSource.destroy();
    await running.stop();
    running = undefined;
  }, 60_000);
});
