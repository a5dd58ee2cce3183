import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardWebhookHeaders } from './standard-webhook-headers.js';

const CURRENT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PREVIOUS = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const BODY = '{"type":"destination.failing","timestamp":"2026-12-01T12:00:00.000Z","data":{}}';

describe('standardWebhookHeaders', () => {
  it('produces headers the standardwebhooks library verifies with the secret', () => {
    const headers = standardWebhookHeaders('msg-1', [CURRENT], BODY, Date.now());
    expect(new Webhook(CURRENT).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it('puts the timestamp in whole seconds and the id unchanged', () => {
    const headers = standardWebhookHeaders('msg-1', [CURRENT], BODY, 1_765_432_100_999);
    expect(headers['webhook-timestamp']).toBe('1765432100');
    expect(headers['webhook-id']).toBe('msg-1');
  });

  it('signs once per secret so both the current and the previous secret verify', () => {
    const headers = standardWebhookHeaders('msg-1', [CURRENT, PREVIOUS], BODY, Date.now());
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(CURRENT).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(PREVIOUS).verify(BODY, headers)).not.toThrow();
  });

  it('does not verify with another secret', () => {
    const headers = standardWebhookHeaders('msg-1', [CURRENT], BODY, Date.now());
    expect(() => new Webhook(PREVIOUS).verify(BODY, headers)).toThrow();
  });
});
