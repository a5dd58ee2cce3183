import { Writable } from 'node:stream';
import { logStreams } from '../../src/logging/root-logger.js';

/**
 * Every JSON log line the process writes from now on, at every level: tests read it to prove
 * what is logged, and above all what never is. One list per test file (each runs in its own process).
 */
export function captureLogs(): string[] {
  const lines: string[] = [];
  logStreams.add({
    level: 'trace',
    stream: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  return lines;
}
