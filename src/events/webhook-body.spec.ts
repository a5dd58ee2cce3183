import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryEventId } from './event-id.js';
import { emptyClickContext, serializeWebhookBody } from './webhook-body.js';

describe('deliveryEventId', () => {
  it('is the same for the same account, event and destination', () => {
    expect(deliveryEventId('acme', 'evt-42', 'd1')).toBe(deliveryEventId('acme', 'evt-42', 'd1'));
  });

  it('differs between destinations of one event', () => {
    expect(deliveryEventId('acme', 'evt-42', 'd1')).not.toBe(deliveryEventId('acme', 'evt-42', 'd2'));
  });

  it('differs between two accounts that send the same event id to the same destination id', () => {
    expect(deliveryEventId('acme', 'evt-42', 'd1')).not.toBe(deliveryEventId('globex', 'evt-42', 'd1'));
  });

  it('is the first 32 hex digits of SHA-256 over account, event id and destination, newline-separated', () => {
    expect(deliveryEventId('acme', 'evt-42', 'd1')).toBe(createHash('sha256').update('acme\nevt-42\nd1').digest('hex').slice(0, 32));
  });

  it('is 32 lowercase hex characters', () => {
    expect(deliveryEventId('acme', 'evt-42', 'd1')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('serializeWebhookBody', () => {
  it('writes the documented fields in the documented order', () => {
    const body = serializeWebhookBody({
      targetEvent: 'Purchase',
      canonical: 'deposit',
      eventId: 'a1b2',
      occurredAtMs: 1765432100000,
      click: { uid: 'abc123', tg_id: 555123, fbclid: 'IwAR', campaign_id: '120', campaign_name: 'promoX', country: 'IN' },
      data: { value: '25.00', currency: 'USD' },
    });
    expect(body).toBe(
      '{"event":"Purchase","canonical":"deposit","event_id":"a1b2","occurred_at_ms":1765432100000,' +
        '"click":{"uid":"abc123","tg_id":555123,"fbclid":"IwAR","campaign_id":"120","campaign_name":"promoX","country":"IN"},' +
        '"data":{"value":"25.00","currency":"USD"}}',
    );
  });

  it('keeps every click field, null when unknown', () => {
    const body = JSON.parse(
      serializeWebhookBody({ targetEvent: 'Lead', canonical: 'contact', eventId: 'x', occurredAtMs: 1, click: emptyClickContext('u1'), data: {} }),
    );
    expect(body.click).toStrictEqual({ uid: 'u1', tg_id: null, fbclid: null, campaign_id: null, campaign_name: null, country: null });
  });
});
