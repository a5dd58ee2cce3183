import { describe, expect, it } from 'vitest';
import { decodeDeliveryCursor, encodeDeliveryCursor } from './delivery-cursor.js';

const EVENT_ID = '0123456789abcdef0123456789abcdef';

function cursorAt(createdAt: string): string {
  return Buffer.from(JSON.stringify([createdAt, EVENT_ID])).toString('base64url');
}

describe('decodeDeliveryCursor', () => {
  it('reads back what encodeDeliveryCursor wrote', () => {
    const cursor = { createdAt: '2025-12-11 09:48:20.123456+00', eventId: EVENT_ID };

    expect(decodeDeliveryCursor(encodeDeliveryCursor(cursor))).toEqual(cursor);
  });

  it.each(['2024-02-29 23:59:59+00', '2025-12-31 00:00:00.5-03:30', '0001-01-01 00:00:00+00', '9999-12-31 23:59:59.999999+14'])(
    'accepts the valid timestamp %s',
    (createdAt) => {
      expect(decodeDeliveryCursor(cursorAt(createdAt))).toEqual({ createdAt, eventId: EVENT_ID });
    },
  );

  it.each([
    ['month 13', '2025-13-01 00:00:00+00'],
    ['month 0', '2025-00-10 00:00:00+00'],
    ['day 0', '2025-01-00 00:00:00+00'],
    ['day 32', '2025-01-32 00:00:00+00'],
    ['31 April', '2025-04-31 00:00:00+00'],
    ['29 February in a common year', '2025-02-29 00:00:00+00'],
    ['year 0000', '0000-01-01 00:00:00+00'],
    ['hour 24', '2025-01-01 24:00:00+00'],
    ['minute 60', '2025-01-01 00:60:00+00'],
    ['second 60', '2025-01-01 00:00:60+00'],
    ['an offset of 16 hours', '2025-01-01 00:00:00+16'],
    ['offset minutes of 60', '2025-01-01 00:00:00+05:60'],
    ['a five-digit year', '99999-01-01 00:00:00+00'],
  ])('refuses a cursor whose timestamp has %s', (_, createdAt) => {
    expect(decodeDeliveryCursor(cursorAt(createdAt))).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['an event id that is not 32 hex digits', Buffer.from(JSON.stringify(['2025-01-01 00:00:00+00', 'xyz'])).toString('base64url')],
    ['three elements', Buffer.from(JSON.stringify(['2025-01-01 00:00:00+00', EVENT_ID, 1])).toString('base64url')],
  ])('refuses %s', (_, text) => {
    expect(decodeDeliveryCursor(text)).toBeUndefined();
  });
});
