import { isRealTimestampMatch } from '../common/calendar.js';

/**
 * Keyset cursor over (created_at, event_id), newest first. Rows inserted while a client pages
 * are newer than its cursor, so they never shift or repeat the pages it has not read yet.
 * created_at travels as PostgreSQL's own text form: a JavaScript Date would drop the microseconds
 * and make the page boundary repeat rows.
 */
export interface DeliveryCursor {
  createdAt: string;
  eventId: string;
}


const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;

export function encodeDeliveryCursor(cursor: DeliveryCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.eventId])).toString('base64url');
}

export function decodeDeliveryCursor(text: string): DeliveryCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [createdAt, eventId] = value as unknown[];
    if (typeof createdAt !== 'string' || !isTimestampText(createdAt)) return undefined;
    if (typeof eventId !== 'string' || !/^[0-9a-f]{32}$/.test(eventId)) return undefined;
    return { createdAt, eventId };
  } catch {
    return undefined;
  }
}

/**
 * The shape alone is not enough: a tampered cursor such as month 13, day 31 in April or year 0000
 * matches it, and PostgreSQL fails the cast with an error that would answer 500.
 */
function isTimestampText(text: string): boolean {
  return isRealTimestampMatch(TIMESTAMP_TEXT.exec(text), 8);
}
