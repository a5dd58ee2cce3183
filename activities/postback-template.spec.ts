import { describe, expect, it } from 'vitest';
import { parsePostbackTemplate, POSTBACK_MACROS, PostbackTemplateError, renderPostback } from './postback-template.js';
import { successBodyMatcher, SuccessBodyError } from './success-body.js';

describe('postback templates', () => {
  it('fills every macro, percent-encoded for its place, and leaves missing values empty', () => {
    const template = parsePostbackTemplate('https://tracker.example/{campaign_id}/postback?subid={uid}&status={event}&payout={value}&cur={currency}&tid={transaction_id}&c={country}');
    const rendered = renderPostback(template, 'GET', { campaign_id: 'a/b c', uid: 'x&y=z#w', event: 'sale', value: '10+5%', currency: null, transaction_id: 'dép 1', country: undefined }, {});
    const url = new URL(rendered.url);
    expect(url.pathname).toBe('/a%2Fb%20c/postback');
    expect(Object.fromEntries(url.searchParams)).toEqual({ subid: 'x&y=z#w', status: 'sale', payout: '10+5%', cur: '', tid: 'dép 1', c: '' });
    expect(rendered.body).toBeUndefined();
  });

  it('sends the query as a form body on POST, and masks secrets in the request line only', () => {
    const template = parsePostbackTemplate('https://t.example/{secret.key}/pb?clickid={uid}&k={secret.key}');
    expect(template.secrets).toEqual(['key']);
    const rendered = renderPostback(template, 'POST', { uid: 'u 1' }, { key: 's3cr/t' });
    expect(rendered.url).toBe('https://t.example/s3cr%2Ft/pb');
    expect(rendered.body).toBe('clickid=u%201&k=s3cr%2Ft');
    expect(rendered.requestLine).toBe('POST https://t.example/********/pb (form: clickid=u%201&k=********)');
    expect(rendered.requestLine).not.toContain('s3cr');
  });

  it.each([
    ['https://{campaign_id}.example/pb', /macro \{campaign_id\} is not allowed in the scheme, host or port/],
    ['https://example.com:{tg_id}/pb', /macro \{tg_id\} is not allowed in the scheme, host or port/],
    ['{canonical}://example.com/pb', /macro \{canonical\} is not allowed in the scheme/],
    ['https://example.com/pb?x={payout}', /unknown macro \{payout\}/],
    ['https://example.com/pb?x={uid', /"\{" without its "\}"/],
    ['https://example.com/pb?x=uid}', /"\}" without its "\{"/],
    ['https://example.com/pb?x={secret.Bad-Name}', /must name a secret/],
    ['https://example.com/pb#{uid}', /fragment/],
    ['ftp://example.com/pb', /must start with http/],
    ['https://user:pw@example.com/pb', /credentials/],
  ])('refuses %s', (template, problem) => {
    expect(() => parsePostbackTemplate(template)).toThrow(PostbackTemplateError);
    expect(() => parsePostbackTemplate(template)).toThrow(problem);
  });

  it('knows every field of the webhook body as a macro', () => {
    expect(POSTBACK_MACROS).toEqual(['event', 'canonical', 'event_id', 'occurred_at_ms', 'occurred_at', 'uid', 'tg_id', 'fbclid', 'campaign_id', 'campaign_name', 'country', 'value', 'currency', 'transaction_id']);
  });
});

describe('success_body', () => {
  it('is a substring, or an anchored regular expression when written ^…$', () => {
    expect(successBodyMatcher('OK')('status: OK')).toBe(true);
    expect(successBodyMatcher('OK')('error')).toBe(false);
    expect(successBodyMatcher('^OK\\s*$')('OK\n')).toBe(true);
    expect(successBodyMatcher('^OK\\s*$')('NOT OK')).toBe(false);
  });

  it('refuses a pattern that could backtrack exponentially, an invalid one, and an over-long one', () => {
    expect(() => successBodyMatcher('^(a+)+$')).toThrow(SuccessBodyError);
    expect(() => successBodyMatcher('^(a$')).toThrow(/not a valid regular expression/);
    expect(() => successBodyMatcher('x'.repeat(201))).toThrow(/1-200 characters/);
  });
});
