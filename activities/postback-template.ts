/**
 * Postback URL templates: the S2S conventions of ad trackers (Keitaro, Binom, Voluum, RedTrack…), a
 * GET to a URL whose `{macro}`s are filled from the delivery. Parsed at save (a bad template is a
 * 400 naming the problem) and rendered at send time by the activity, from the stored webhook body.
 * No Node imports: the API validates with it and the worker renders with it.
 */

/** Every field of the webhook body, plus `occurred_at` (seconds) and the producer's own event id. */
export const POSTBACK_MACROS = [
  'event',
  'canonical',
  'event_id',
  'occurred_at_ms',
  'occurred_at',
  'uid',
  'tg_id',
  'fbclid',
  'campaign_id',
  'campaign_name',
  'country',
  'value',
  'currency',
  'transaction_id',
] as const;
export type PostbackMacro = (typeof POSTBACK_MACROS)[number];

/** `{secret.NAME}`: a value from the destination's write-only `template_secrets`, masked wherever the request is shown. */
export const SECRET_MACRO_PREFIX = 'secret.';
export const SECRET_NAME = /^[a-z0-9_]{1,32}$/;
export const MASKED_SECRET = '********';
export const MAX_URL_TEMPLATE_LENGTH = 2048;

export class PostbackTemplateError extends Error {
  override readonly name = 'PostbackTemplateError';
}

type Part = { literal: string } | { macro: PostbackMacro; inQuery: boolean } | { secret: string; inQuery: boolean };

export interface PostbackTemplate {
  /** scheme://host[:port], fixed: no macro can move a postback to another host (SSRF rules apply to it). */
  origin: string;
  parts: Part[];
  /** The names of the `{secret.NAME}` macros it uses. */
  secrets: string[];
}

const KNOWN = new Set<string>(POSTBACK_MACROS);

/** Parses and checks a template; throws PostbackTemplateError naming the first problem. */
export function parsePostbackTemplate(template: string): PostbackTemplate {
  if (template.length > MAX_URL_TEMPLATE_LENGTH) throw new PostbackTemplateError(`url_template is longer than ${MAX_URL_TEMPLATE_LENGTH} characters`);
  const authority = /^(https?):\/\/([^/?#]*)/i.exec(template);
  const firstMacro = /\{[^}]*\}?/.exec(template);
  if (!authority) {
    if (firstMacro && firstMacro.index < (template.indexOf('://') + 3 || 1)) {
      throw new PostbackTemplateError(`url_template: macro ${firstMacro[0]} is not allowed in the scheme, host or port`);
    }
    throw new PostbackTemplateError('url_template must start with http:// or https://');
  }
  const authorityEnd = authority[0].length;
  if (firstMacro && firstMacro.index < authorityEnd) {
    throw new PostbackTemplateError(`url_template: macro ${firstMacro[0]} is not allowed in the scheme, host or port`);
  }
  if (authority[2].includes('@')) throw new PostbackTemplateError('url_template must not contain credentials');
  if (template.includes('#')) throw new PostbackTemplateError('url_template must not have a fragment (#…): it is never sent');

  const rest = template.slice(authorityEnd);
  const parts: Part[] = [];
  const secrets: string[] = [];
  let inQuery = false;
  let literal = '';
  for (let index = 0; index < rest.length; index++) {
    const char = rest[index]!;
    if (char === '}') throw new PostbackTemplateError(`url_template has a "}" without its "{" at position ${authorityEnd + index}`);
    if (char !== '{') {
      if (char === '?') inQuery = true;
      literal += char;
      continue;
    }
    const close = rest.indexOf('}', index);
    if (close === -1) throw new PostbackTemplateError(`url_template has a "{" without its "}" at position ${authorityEnd + index}`);
    const name = rest.slice(index + 1, close);
    if (literal !== '') parts.push({ literal });
    literal = '';
    if (name.startsWith(SECRET_MACRO_PREFIX)) {
      const secret = name.slice(SECRET_MACRO_PREFIX.length);
      if (!SECRET_NAME.test(secret)) throw new PostbackTemplateError(`url_template: {${name}} must name a secret of 1-32 characters a-z, 0-9 or _`);
      parts.push({ secret, inQuery });
      if (!secrets.includes(secret)) secrets.push(secret);
    } else if (KNOWN.has(name)) {
      parts.push({ macro: name as PostbackMacro, inQuery });
    } else {
      throw new PostbackTemplateError(`url_template: unknown macro {${name}}; known macros are ${POSTBACK_MACROS.map((macro) => `{${macro}}`).join(', ')} and {secret.NAME}`);
    }
    index = close;
  }
  if (literal !== '') parts.push({ literal });

  const origin = authority[0];
  // The literal parts must make a URL on their own; what macros insert is percent-encoded.
  let sample: URL;
  try {
    sample = new URL(render({ origin, parts, secrets }, () => 'x', () => 'x'));
  } catch {
    throw new PostbackTemplateError('url_template is not a valid URL once its macros are filled in');
  }
  return { origin: `${sample.protocol}//${sample.host}`, parts, secrets };
}

/** What fills the macros of one delivery; a missing value renders empty. */
export type MacroValues = Partial<Record<PostbackMacro, string | number | null | undefined>>;

export interface RenderedPostback {
  /** The URL of the request (for a form POST: without the query, which is the body). */
  url: string;
  /** The form-encoded body of a POST (the template's query), undefined for a GET. */
  body: string | undefined;
  /** The request line as shown to people: method and URL with every secret macro masked. */
  requestLine: string;
}

/**
 * Fills the template. Every value is percent-encoded for its place (encodeURIComponent, in the path
 * and in the query alike), so a value can never add a path segment, a parameter or a fragment.
 * A POST sends the query as an application/x-www-form-urlencoded body.
 */
export function renderPostback(template: PostbackTemplate, method: 'GET' | 'POST', values: MacroValues, secrets: Record<string, string>): RenderedPostback {
  const filled = render(template, (macro) => values[macro], (name) => secrets[name]);
  const masked = render(template, (macro) => values[macro], () => MASKED_SECRET, { rawSecrets: true });
  if (method === 'GET') return { url: filled, body: undefined, requestLine: `GET ${masked}` };
  const [url, query = ''] = splitQuery(filled);
  const [maskedUrl, maskedQuery = ''] = splitQuery(masked);
  return { url, body: query, requestLine: `POST ${maskedUrl}${maskedQuery === '' ? '' : ` (form: ${maskedQuery})`}` };
}

function splitQuery(url: string): [string, string?] {
  const at = url.indexOf('?');
  return at === -1 ? [url] : [url.slice(0, at), url.slice(at + 1)];
}

function render(
  template: PostbackTemplate,
  macro: (name: PostbackMacro) => string | number | null | undefined,
  secret: (name: string) => string | undefined,
  options: { rawSecrets?: boolean } = {},
): string {
  let url = template.origin;
  for (const part of template.parts) {
    if ('literal' in part) url += part.literal;
    else if ('macro' in part) url += encodeURIComponent(String(macro(part.macro) ?? ''));
    else url += options.rawSecrets ? (secret(part.secret) ?? '') : encodeURIComponent(secret(part.secret) ?? '');
  }
  return url;
}
