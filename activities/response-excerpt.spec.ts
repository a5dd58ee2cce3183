import { describe, expect, it } from 'vitest';
import { MAX_RESPONSE_EXCERPT_BYTES, maskSecrets, responseExcerpt, SECRET_MASK } from './response-excerpt.js';

const SECRET = 'k3y/with"quote\\and é';

describe('responseExcerpt', () => {
  it('replaces NUL bytes, which PostgreSQL text cannot hold, with U+FFFD', () => {
    expect(responseExcerpt(Buffer.from('a\u0000b'), [])).toBe('a\uFFFDb');
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(responseExcerpt(Buffer.from([0x61, 0xff, 0xc3, 0x62]), [])).toBe('a\uFFFD\uFFFDb');
  });

  it('keeps at most 16 KiB and never cuts a character in half', () => {
    const excerpt = responseExcerpt(Buffer.from(`${'x'.repeat(MAX_RESPONSE_EXCERPT_BYTES - 1)}é and more`), []);
    expect(excerpt).toBe('x'.repeat(MAX_RESPONSE_EXCERPT_BYTES - 1));
  });

  it('masks a secret that straddles the 16 KiB cut before cutting', () => {
    const body = `${'x'.repeat(MAX_RESPONSE_EXCERPT_BYTES - 3)}secret-value and more`;
    const excerpt = responseExcerpt(Buffer.from(body), ['secret-value']);
    expect(excerpt).toBe(`${'x'.repeat(MAX_RESPONSE_EXCERPT_BYTES - 3)}***`);
  });
});

describe('maskSecrets', () => {
  it.each([
    ['verbatim', SECRET],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
    ['JSON-escaped with non-ASCII as \\u escapes (Python)', 'k3y/with\\"quote\\\\and \\u00e9'],
    ['JSON-escaped with "/" and non-ASCII escaped (PHP)', 'k3y\\/with\\"quote\\\\and \\u00e9'],
    ['percent-encoded', encodeURIComponent(SECRET)],
    ['form-encoded', encodeURIComponent(SECRET).replaceAll('%20', '+')],
    ['HTML-escaped', 'k3y/with&quot;quote\\and é'],
  ])('masks a secret echoed %s', (_encoding, echoed) => {
    expect(maskSecrets(`before ${echoed} after`, [SECRET])).toBe(`before ${SECRET_MASK} after`);
  });

  it("masks <, > and & escaped the way Go's encoding/json writes them", () => {
    expect(maskSecrets('{"h":"a\\u003cb\\u003ec\\u0026d"}', ['a<b>c&d'])).toBe(`{"h":"${SECRET_MASK}"}`);
  });

  it('masks every occurrence and leaves the rest of the text alone', () => {
    expect(maskSecrets('x-key: abcd\nx-other: abcd, fine', ['abcd'])).toBe(`x-key: ${SECRET_MASK}\nx-other: ${SECRET_MASK}, fine`);
  });

  it('masks the value a receiver echoes without the whitespace HTTP strips around it', () => {
    expect(maskSecrets('x-key: abcd', ['  abcd '])).toBe(`x-key: ${SECRET_MASK}`);
  });

  it('masks a secret that contains another secret whole', () => {
    expect(maskSecrets('v1,abc= v1,def=', ['v1,abc= v1,def=', 'v1,abc=', 'abc='])).toBe(SECRET_MASK);
  });

  it('masks the start of a secret the body ends with', () => {
    expect(maskSecrets('{"x-key":"abcdef', ['abcdefghij'])).toBe(`{"x-key":"${SECRET_MASK}`);
  });

  it('keeps a body end that shares only a few characters with a secret', () => {
    expect(maskSecrets('result: abc', ['abcdefghij'])).toBe('result: abc');
  });

  it('ignores empty secrets instead of masking between every character', () => {
    expect(maskSecrets('plain', ['', '   '])).toBe('plain');
  });

  it('treats regular-expression characters in a secret literally', () => {
    expect(maskSecrets('a.b a+b', ['a+b'])).toBe(`a.b ${SECRET_MASK}`);
  });
});
