import { describe, expect, it } from 'vitest';
import { applyRoutingFilter } from './routing-filter.js';
import type { ClickContext } from './webhook-body.js';

const CLICK: ClickContext = { uid: 'u1', tg_id: 5, fbclid: null, campaign_id: '120001', campaign_name: 'promoX', country: 'IN' };

describe('routing filter', () => {
  it('decides nothing for a destination without a filter', () => {
    expect(applyRoutingFilter(null, CLICK, 'contact', {})).toBeNull();
  });

  it('matches when every rule holds, countries compared upper case', () => {
    expect(applyRoutingFilter({ campaign_ids: ['120001'], countries: ['IN'], min_value: '10.00' }, { ...CLICK, country: 'in' }, 'deposit', { value: '10.00' })).toEqual({ matched: true, reason: null });
  });

  it.each([
    [{ campaign_ids: ['120002'] }, CLICK, 'contact', {}, 'campaign_id 120001 is not in filter.campaign_ids'],
    [{ campaign_ids: ['120001'] }, { ...CLICK, campaign_id: null }, 'contact', {}, 'the click has no campaign_id, and filter.campaign_ids is set'],
    [{ countries: ['BR'] }, CLICK, 'contact', {}, 'country IN is not in filter.countries'],
    [{ countries: ['BR'] }, { ...CLICK, country: null }, 'contact', {}, 'the click has no country, and filter.countries is set'],
    [{ min_value: '10.00' }, CLICK, 'deposit', { value: '9.99' }, 'deposit value 9.99 is below filter.min_value 10.00'],
  ] as const)('keeps out %j: %s', (filter, click, canonical, data, reason) => {
    expect(applyRoutingFilter({ ...filter } as never, click, canonical, data)).toEqual({ matched: false, reason });
  });

  it('applies min_value to deposits only', () => {
    expect(applyRoutingFilter({ min_value: '10.00' }, CLICK, 'registration', {})).toEqual({ matched: true, reason: null });
  });
});
