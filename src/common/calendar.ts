/**
 * Whether the fields name a real moment: text can match a date-time pattern and still say month 13,
 * 31 April or hour 25, which PostgreSQL refuses with an error rather than a row.
 */
export function isRealDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; UTC keeps it free of the local zone.
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

const RFC3339_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
/** PostgreSQL refuses a UTC offset beyond ±15:59. */
export const MAX_UTC_OFFSET_HOURS = 15;

/**
 * Whether the captured fields of a date-time pattern name a moment PostgreSQL accepts as a
 * timestamptz: groups 1–6 are year to second, `offsetGroup` and the next one the UTC offset.
 */
export function isRealTimestampMatch(match: RegExpExecArray | null, offsetGroup: number): boolean {
  if (!match) return false;
  const field = (index: number) => Number(match[index] ?? 0);
  return (
    isRealDateTime(field(1), field(2), field(3), field(4), field(5), field(6)) &&
    field(offsetGroup) <= MAX_UTC_OFFSET_HOURS &&
    field(offsetGroup + 1) <= 59
  );
}

/** An RFC 3339 date-time that PostgreSQL reads as a timestamptz. */
export function isRfc3339DateTime(text: string): boolean {
  return isRealTimestampMatch(RFC3339_DATE_TIME.exec(text), 9);
}
