import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { CANONICAL_EVENTS, isCanonicalEvent } from '../../common/canonical-event.js';

export const MAX_CUSTOM_HEADERS = 20;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;
export const MAX_TARGET_EVENT_LENGTH = 200;

/** RFC 9110 token characters: anything else cannot be a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header values may not smuggle a second header or end the header block. */
const FORBIDDEN_HEADER_VALUE = /[\r\n\0]/;
/** Set by XTRACKER on every request; a custom header must not override them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'user-agent', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function headerMapProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'headers must be an object of header name → value';
  const entries = Object.entries(value);
  if (entries.length > MAX_CUSTOM_HEADERS) return `headers must have at most ${MAX_CUSTOM_HEADERS} entries`;
  const seen = new Set<string>();
  for (const [name, headerValue] of entries) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || name.length > MAX_HEADER_NAME_LENGTH) return `header name "${name}" is not a valid HTTP token`;
    if (RESERVED_HEADERS.has(lower) || lower.startsWith('webhook-')) return `header "${name}" is set by XTRACKER and cannot be configured`;
    if (seen.has(lower)) return `header "${name}" is given twice`;
    seen.add(lower);
    if (typeof headerValue !== 'string') return `header "${name}" must have a string value`;
    if (FORBIDDEN_HEADER_VALUE.test(headerValue)) return `header "${name}" value must not contain CR, LF or NUL`;
    if (headerValue.length > MAX_HEADER_VALUE_LENGTH) return `header "${name}" value is longer than ${MAX_HEADER_VALUE_LENGTH} characters`;
  }
  return undefined;
}

export function eventMapProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'event_map must be an object of canonical event → target event name';
  const entries = Object.entries(value);
  if (entries.length === 0) return 'event_map must map at least one canonical event';
  for (const [canonical, target] of entries) {
    if (!isCanonicalEvent(canonical)) return `event_map key "${canonical}" is not a canonical event (${CANONICAL_EVENTS.join(', ')})`;
    if (typeof target !== 'string' || target.trim() === '') return `event_map.${canonical} must be a non-empty target event name`;
    if (target.length > MAX_TARGET_EVENT_LENGTH) return `event_map.${canonical} is longer than ${MAX_TARGET_EVENT_LENGTH} characters`;
  }
  return undefined;
}

function fromProblem(name: string, problem: (value: unknown) => string | undefined) {
  return (options?: ValidationOptions) => (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args: ValidationArguments) => problem(args.value) ?? `${propertyName} is invalid`,
      },
    });
}

export const IsHeaderMap = fromProblem('isHeaderMap', headerMapProblem);
export const IsEventMap = fromProblem('isEventMap', eventMapProblem);
