/**
 * One progress line on stderr: rewritten in place on a terminal, else printed at most every few
 * seconds so logs stay readable.
 */
const tty = process.stderr.isTTY === true;
const PLAIN_INTERVAL_MS = 5_000;
let lastPlainMs = 0;
let lastLine = '';
let phaseStartMs = Date.now();
let phaseName = '';

export function phase(name: string): void {
  done();
  phaseName = name;
  phaseStartMs = Date.now();
  process.stderr.write(`▶ ${name}\n`);
}

export function progress(detail: string): void {
  const elapsed = ((Date.now() - phaseStartMs) / 1000).toFixed(0);
  const line = `  [${phaseName} ${elapsed}s] ${detail}`;
  if (tty) {
    process.stderr.write(`\r\x1b[2K${line}`);
    lastLine = line;
  } else if (Date.now() - lastPlainMs >= PLAIN_INTERVAL_MS) {
    process.stderr.write(`${line}\n`);
    lastPlainMs = Date.now();
  }
}

export function note(message: string): void {
  done();
  process.stderr.write(`  ${message}\n`);
}

function done(): void {
  if (tty && lastLine !== '') process.stderr.write('\n');
  lastLine = '';
}

/** Calls `tick` every `intervalMs` until the returned stop function is called. */
export function ticker(tick: () => Promise<string> | string, intervalMs = 500): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    void Promise.resolve()
      .then(tick)
      .then((detail) => {
        if (!stopped) progress(detail);
      })
      .catch(() => undefined);
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
