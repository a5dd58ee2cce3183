import { registerDecorator, ValidateIf, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { CANONICAL_EVENTS, isCanonicalEvent } from '../../common/canonical-event.js';

export const MAX_CUSTOM_HEADERS = 20;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;
export const MAX_TARGET_EVENT_LENGTH = 200;

/** RFC 9110 token characters: anything else cannot be a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Visible ASCII, space and TAB only. CR/LF would smuggle a second header or end the header block;
 * other controls, DEL and obs-text (0x80-0xFF) are read differently by different HTTP stacks, and
 * undici throws at send time on code points above U+00FF, so such a value could never be delivered.
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/**
 * C0 controls (TAB included), DEL and C1 controls: never part of a name, URL or event name, NUL is
 * refused by PostgreSQL, and the rest would end up in logs, search attributes and receivers' bodies.
 */
const CONTROL_CHARACTER = /\p{Cc}/u;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
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
    if (!HEADER_VALUE.test(headerValue)) return `header "${name}" value may contain only printable ASCII (0x20-0x7E) and TAB`;
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
    const textProblem = plainTextProblem(`event_map.${canonical}`, target);
    if (textProblem !== undefined) return textProblem;
  }
  return undefined;
}

/**
 * Why a free-text value cannot be stored, or undefined. Unpaired surrogates are refused too: jsonb
 * rejects them (a 500), and text columns would silently store U+FFFD instead.
 */
export function plainTextProblem(field: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (CONTROL_CHARACTER.test(value)) return `${field} must not contain control characters (U+0000-U+001F, U+007F-U+009F)`;
  if (UNPAIRED_SURROGATE.test(value)) return `${field} must be well-formed Unicode (no unpaired surrogates)`;
  return undefined;
}

function fromProblem(name: string, problem: (value: unknown, propertyName: string) => string | undefined) {
  return (options?: ValidationOptions) => (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problem(value, propertyName) === undefined,
        defaultMessage: (args: ValidationArguments) => problem(args.value, propertyName) ?? `${propertyName} is invalid`,
      },
    });
}

export const MAX_TEMPLATE_SECRETS = 10;
export const MAX_TEMPLATE_SECRET_LENGTH = 512;
export const MAX_FILTER_ENTRIES = 500;
const SECRET_NAME = /^[a-z0-9_]{1,32}$/;
const COUNTRY_CODE = /^[A-Za-z]{2}$/;
const DECIMAL = /^\d{1,15}(\.\d{1,6})?$/;

/** `template_secrets`: name → value, write-only like header values. */
export function templateSecretsProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'template_secrets must be an object of secret name → value';
  const entries = Object.entries(value);
  if (entries.length > MAX_TEMPLATE_SECRETS) return `template_secrets must have at most ${MAX_TEMPLATE_SECRETS} entries`;
  for (const [name, secret] of entries) {
    if (!SECRET_NAME.test(name)) return `template_secrets name "${name}" must be 1-32 characters a-z, 0-9 or _`;
    if (typeof secret !== 'string' || secret === '') return `template_secrets.${name} must be a non-empty string`;
    if (secret.length > MAX_TEMPLATE_SECRET_LENGTH) return `template_secrets.${name} is longer than ${MAX_TEMPLATE_SECRET_LENGTH} characters`;
    const textProblem = plainTextProblem(`template_secrets.${name}`, secret);
    if (textProblem !== undefined) return textProblem;
  }
  return undefined;
}

/** `filter`: routing rules on the click and the event, every one optional, unknown keys refused. */
export function filterProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'filter must be an object with campaign_ids, countries and/or min_value';
  for (const key of Object.keys(value)) {
    if (!['campaign_ids', 'countries', 'min_value'].includes(key)) return `filter.${key} is not a filter; use campaign_ids, countries or min_value`;
  }
  const { campaign_ids, countries, min_value } = value;
  for (const [field, list] of [['campaign_ids', campaign_ids], ['countries', countries]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_FILTER_ENTRIES) return `filter.${field} must be a list of 1-${MAX_FILTER_ENTRIES} strings`;
    for (const entry of list) {
      if (typeof entry !== 'string' || entry === '' || entry.length > 128) return `filter.${field} entries must be non-empty strings of at most 128 characters`;
      const textProblem = plainTextProblem(`filter.${field}`, entry);
      if (textProblem !== undefined) return textProblem;
      if (field === 'countries' && !COUNTRY_CODE.test(entry)) return `filter.countries entry "${entry}" is not an ISO 3166-1 alpha-2 code`;
    }
  }
  if (min_value !== undefined && (typeof min_value !== 'string' || !DECIMAL.test(min_value))) {
    return 'filter.min_value must be a decimal string, e.g. "10.00"';
  }
  return undefined;
}

export const IsTemplateSecrets = fromProblem('isTemplateSecrets', templateSecretsProblem);
export const IsDestinationFilter = fromProblem('isDestinationFilter', filterProblem);
export const IsHeaderMap = fromProblem('isHeaderMap', headerMapProblem);
export const IsEventMap = fromProblem('isEventMap', eventMapProblem);
export const IsPlainText = fromProblem('isPlainText', (value, propertyName) => plainTextProblem(propertyName, value));
export const IsNotNull = fromProblem('isNotNull', (value, propertyName) => (value === null ? `${propertyName} must not be null` : undefined));

/**
 * A field that may be left out but is never null. `@IsOptional()` lets null through unvalidated,
 * and null has no meaning here: on PATCH it would reach NOT NULL columns (a 500) or leave the
 * client guessing whether it clears the field or restores the default.
 */
export function IsOmittable(): PropertyDecorator {
  return (target, propertyName) => {
    ValidateIf((_object, value) => value !== undefined)(target, propertyName);
    IsNotNull()(target, String(propertyName));
  };
}
