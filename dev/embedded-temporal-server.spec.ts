import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedTemporal, type EmbeddedTemporal } from './embedded-temporal-server.js';
import { DELIVERY_SEARCH_ATTRIBUTES } from '../contract/search-attributes.js';

const projectRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const namespace = 'embedded-spec';

/** True when something accepts TCP connections on the address. */
function isListening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((done) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

describe('startEmbeddedTemporal', () => {
  let tempDir: string | undefined;
  let server: EmbeddedTemporal | undefined;

  afterAll(async () => {
    // Only reached with a server still running when an assertion failed before stop().
    await server?.stop();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  });

  it('runs a headless dev server with the delivery search attributes, and stops it', async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'xtracker-temporal-'));
    server = await startEmbeddedTemporal({
      projectRoot,
      cliPath: process.env.TEMPORAL_CLI_PATH,
      namespace,
      port: 0,
      ui: false,
      // A nested folder proves the server creates it.
      dbFile: join(tempDir, 'state', 'temporal.sqlite'),
      log: () => undefined,
    });
    expect(server.uiUrl).toBeUndefined();
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);

    const client = new Client({ connection: await Connection.connect({ address: server.address }), namespace });
    try {
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
      for (const { name } of DELIVERY_SEARCH_ATTRIBUTES) {
        expect(customAttributes, `search attribute ${name}`).toHaveProperty(name);
      }
    } finally {
      await client.connection.close();
    }

    const { address } = server;
    await server.stop();
    server = undefined;
    expect(await isListening(address)).toBe(false);
  }, 120_000);
});
