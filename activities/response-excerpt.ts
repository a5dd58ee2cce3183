/** Kept per attempt for operators; receivers sometimes answer with whole HTML error pages. */
export const MAX_RESPONSE_EXCERPT_BYTES = 16 * 1024;

/**
 * How much of a body is read: past the excerpt, so that a secret straddling the excerpt's end is
 * seen whole and masked before the cut. 32 KiB covers the longest encoded form of a 4,096-character
 * header value (`\u00XX` escapes, six bytes a character).
 */
export const RESPONSE_READ_LIMIT_BYTES = MAX_RESPONSE_EXCERPT_BYTES + 32 * 1024;

/** What a secret reads as in a stored excerpt. */
export const SECRET_MASK = '********';

/**
 * A body that ends in the first characters of a secret (cut short by the read budget, or by the
 * receiver) has that start masked too; below this length a match is more likely chance than a leak.
 */
const MIN_PARTIAL_SECRET_CHARS = 4;

/**
 * The stored form of a response body: text PostgreSQL can hold (invalid UTF-8 and NUL, which a
 * `text` column refuses, become U+FFFD), every secret the request carried masked, at most
 * MAX_RESPONSE_EXCERPT_BYTES of UTF-8 cut on a character boundary.
 */
export function responseExcerpt(body: Uint8Array, secrets: ReadonlyArray<string>): string {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').replaceAll('\u0000', '\uFFFD');
  return truncateUtf8(maskSecrets(text, secrets), MAX_RESPONSE_EXCERPT_BYTES);
}

/**
 * Masks every occurrence of each secret, verbatim or in an encoding a receiver echoing the request
 * is likely to use, in one pass (so a mask is never masked again), plus a secret cut off at the end.
 */
export function maskSecrets(text: string, secrets: ReadonlyArray<string>): string {
  // Most receivers answer with an empty body: nothing to mask, and no reason to build the forms.
  if (text === '') return text;
  const forms = new Set<string>();
  for (const secret of secrets) {
    // HTTP strips the whitespace around a header value, so the receiver echoes the trimmed value.
    const trimmed = secret.trim();
    if (trimmed !== '') for (const form of encodedForms(trimmed)) forms.add(form);
  }
  if (forms.size === 0) return text;
  // Longest first: a secret containing another one is masked whole.
  const longestFirst = [...forms].sort((a, b) => b.length - a.length);
  const masked = text.replace(new RegExp(longestFirst.map(escapeRegExp).join('|'), 'g'), SECRET_MASK);
  return maskTrailingPartial(masked, longestFirst);
}

/** The forms a header value takes when a receiver echoes it; each line names who writes it that way. */
function encodedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1); // JavaScript, Go without HTML escaping, Python with ensure_ascii=False
  const asciiJson = json.replace(/[\u007f-\uffff]/g, unicodeEscape); // Python's json.dumps
  const percent = encodeURIComponent(value);
  return [
    value,
    json,
    asciiJson,
    asciiJson.replaceAll('/', '\\/'), // PHP's json_encode
    json.replace(/[<>&]/g, unicodeEscape), // Go's encoding/json
    percent, // query strings
    percent.replaceAll('%20', '+'), // HTML forms
    escapeHtml(value, '&#39;'), // HTML error pages
    escapeHtml(value, '&#x27;'),
  ];
}

function unicodeEscape(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function escapeHtml(value: string, apostrophe: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", apostrophe);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Masks the end of `text` when it is the start of a secret (the rest of the secret never arrived). */
function maskTrailingPartial(text: string, forms: ReadonlyArray<string>): string {
  let cut = text.length;
  for (const form of forms) {
    if (form.length <= MIN_PARTIAL_SECRET_CHARS) continue;
    const head = form.slice(0, MIN_PARTIAL_SECRET_CHARS);
    // The earliest start that works is the longest partial secret.
    for (let start = text.indexOf(head, Math.max(0, text.length - form.length + 1)); start !== -1 && start < cut; start = text.indexOf(head, start + 1)) {
      if (form.startsWith(text.slice(start))) {
        cut = start;
        break;
      }
    }
  }
  return cut === text.length ? text : `${text.slice(0, cut)}${SECRET_MASK}`;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up to the first byte of the character the limit falls in.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}
