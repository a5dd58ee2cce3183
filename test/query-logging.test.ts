import { describe, expect, it, vi } from 'vitest';
import { useTestApp } from './support/test-app.js';
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
});
