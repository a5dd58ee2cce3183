import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { historyRow, progressLine, table } from './xtw-commands.js';

describe('xtw output', () => {
  it('pads columns to their widest cell', () => {
    expect(table(['A', 'LONGER'], [['wide cell', 'x'], ['b', '']])).toBe('A          LONGER\nwide cell  x\nb\n');
  });

  it('draws the recovery bar from matched over total, unknown total as empty', () => {
    expect(progressLine({ total: 200, matched: 50, retried: 49, skipped: 1 }, false)).toBe(
      `[########----------------------]  25% 50/200 matched, 49 retried, 1 skipped\n`,
    );
    expect(progressLine({ total: null, matched: 0, retried: 0, skipped: 0 }, false)).toContain('[------------------------------]   0% 0/? matched');
    expect(progressLine({ total: 0, matched: 0, retried: 0, skipped: 0 }, false)).toContain('100%');
    // On a terminal the line redraws itself.
    expect(progressLine({ total: 10, matched: 10, retried: 10, skipped: 0 }, true)).toMatch(/^\r\[#{30}\] 100% .*\u001b\[K$/);
  });

  it('names a history event without its enum prefix and keeps what an operator reads', () => {
    const row = historyRow({
      eventId: 6,
      eventType: temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
      eventTime: { seconds: 1_765_432_100, nanos: 5_000_000 },
      activityTaskStartedEventAttributes: { attempt: 3, lastFailure: { message: 'receiver answered HTTP 503' } },
    } as unknown as temporal.api.history.v1.IHistoryEvent);
    expect(row).toEqual(['6', 'ActivityTaskStarted', '2025-12-11T05:48:20.005Z', 'attempt 3; previous attempt: receiver answered HTTP 503']);
  });
});
