import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from './retry-after.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfterMs('2', NOW)).toBe(2000);
  });

  it('reads an HTTP-date as the time left until it', () => {
    expect(parseRetryAfterMs('Fri, 27 Nov 2026 12:00:30 GMT', NOW)).toBe(30_000);
  });

  it('treats an HTTP-date in the past as no wait', () => {
    expect(parseRetryAfterMs('Fri, 27 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, '', '  ', '-1', '1.5', 'soon', '2026-11-27T12:00:30Z'])('ignores an absent or unreadable value %j', (value) => {
    expect(parseRetryAfterMs(value, NOW)).toBeUndefined();
  });
});
