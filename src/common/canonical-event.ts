/** The canonical events XTRACKER tracks after a click, in funnel order. */
export const CANONICAL_EVENTS = ['contact', 'subscribed', 'registration', 'deposit'] as const;
export type CanonicalEvent = (typeof CANONICAL_EVENTS)[number];

export function isCanonicalEvent(value: unknown): value is CanonicalEvent {
  return typeof value === 'string' && (CANONICAL_EVENTS as readonly string[]).includes(value);
}
