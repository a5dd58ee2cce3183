/**
 * Parses an HTTP `Retry-After` header (RFC 9110 §10.2.3): either delta-seconds or an HTTP-date.
 * Returns the delay in milliseconds, or undefined when the header is absent or unreadable
 * (an unreadable header falls back to the normal backoff rather than failing the delivery).
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only the date forms the RFC allows start with a weekday name; this keeps "-1" or "1.5" out.
  if (!/^[A-Za-z]{3},? /.test(trimmed)) return undefined;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}
