import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now. Another process could take it before the caller binds
 * it; that window is tiny and the failure is loud (the bind fails).
 */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}
