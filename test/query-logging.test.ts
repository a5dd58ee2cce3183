import { describe, expect, it, vi } from 'vitest';
import { rootLogger } from '../src/logging/root-logger.js';
import { eventually, useTestApp } from './support/test-app.js';
import { captureLogs } from './support/captured-logs.js';

/** Every log line the process writes during this file. */
const pinoLines = captureLogs();

describe('database query logging', () => {
  const app = useTestApp();

  it('logs a failed query through pino with its SQLSTATE and statement, never its parameters or the driver message', async () => {
    const secret = `whsec_${Buffer.from(`query-logging-${Date.now()}`).toString('base64')}`;
    // TypeORM's built-in loggers write straight to the console, so watch every console channel as well as stdout.
    const consoleOutput: string[] = [];
    const record = (...args: unknown[]) => void consoleOutput.push(args.map(String).join(' '));
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method).mockImplementation(record));
    const writeSpy = vi.spyOn(process.stdout, 'write');
    try {
      // A uuid cast of the secret fails, and PostgreSQL's message quotes the offending value.
      await expect(app.dataSource.query('SELECT $1::uuid AS id', [secret])).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      const stdout = writeSpy.mock.calls.map(([chunk]) => String(chunk));
      writeSpy.mockRestore();
      for (const spy of spies) spy.mockRestore();
      consoleOutput.push(...stdout);
    }

    const failure = pinoLines.find((line) => line.includes('query failed'));
    expect(failure, 'the failed query reaches the JSON log').toBeDefined();
    expect(failure).toContain('code 22P02');
    expect(failure).toContain('SELECT $1::uuid AS id');
    for (const output of [...pinoLines, ...consoleOutput]) expect(output).not.toContain(secret);
  });

  it('keeps the parameters and row values of a failed query out of a log line that carries the whole error, as the Temporal SDK logs a failed activity', async () => {
    const secret = `hdr-${Date.now()}-never-logged`;
    await app.dataSource.query(`CREATE TEMPORARY TABLE logged_failure (value text NOT NULL, other text NOT NULL)`);
    // The NOT NULL violation's detail quotes the row ("Failing row contains (…secret…, null)").
    const failure: unknown = await app.dataSource.query(`INSERT INTO logged_failure (value, other) VALUES ($1, NULL)`, [secret]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(JSON.stringify(failure)).toContain(secret);

    rootLogger.child({ component: 'temporal-sdk' }).warn({ error: failure }, 'Activity failed');
    const line = await eventually(() => pinoLines.find((candidate) => candidate.includes('"Activity failed"') && candidate.includes('logged_failure')));
    expect(line).not.toContain(secret);
  });
});
