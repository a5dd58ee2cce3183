import { describe, expect, it, vi } from 'vitest';
import { retryWhileDatabaseUnavailable } from './database-retry.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
/** The store's verdict, played here: a refused connection or a dropped one is an outage. */
const isUnavailable = (error: unknown) =>
  error instanceof Error && ((error as { code?: string }).code === 'ECONNREFUSED' || error.message === 'Connection terminated unexpectedly');
const options = (deadlineMs: number, heartbeat: () => void = () => undefined) => ({ deadlineMs, heartbeat, onRetry: () => undefined, isUnavailable });

describe('retryWhileDatabaseUnavailable', () => {
  it('retries a write while the database is unreachable and heartbeats between tries', async () => {
    const write = vi.fn().mockRejectedValueOnce(refused()).mockRejectedValueOnce(new Error('Connection terminated unexpectedly')).mockResolvedValue('stored');
    const heartbeat = vi.fn();
    await expect(retryWhileDatabaseUnavailable(write, options(Date.now() + 10_000, heartbeat))).resolves.toBe('stored');
    expect(write).toHaveBeenCalledTimes(3);
    expect(heartbeat).toHaveBeenCalledTimes(2);
  });

  it('throws any other error at once', async () => {
    const write = vi.fn().mockRejectedValue(new Error('duplicate key value violates unique constraint'));
    await expect(retryWhileDatabaseUnavailable(write, options(Date.now() + 10_000))).rejects.toThrow('duplicate key');
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('gives up with the last error when the next try would pass the deadline', async () => {
    const write = vi.fn().mockRejectedValue(refused());
    await expect(retryWhileDatabaseUnavailable(write, options(Date.now() + 100))).rejects.toThrow('ECONNREFUSED');
    expect(write).toHaveBeenCalledTimes(1);
  });
});
