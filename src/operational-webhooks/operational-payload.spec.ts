import { describe, expect, it } from 'vitest';
import type { OperationalEventType } from '../../contract/operational-notifier.js';
import { buildOperationalPayload, serializeOperationalPayload } from './operational-payload.js';

describe('operational webhook payload', () => {
  it('carries the type, the ISO-8601 time it happened and the data', () => {
    const payload = buildOperationalPayload({ type: 'destination.failing', occurredAtMs: 1_765_432_100_000, data: { destination_id: 'd-1', failures: 5 } });
    expect(payload).toStrictEqual({ type: 'destination.failing', timestamp: '2025-12-11T05:48:20.000Z', data: { destination_id: 'd-1', failures: 5 } });
  });

  it('serialises type, timestamp and data in that order whatever order the stored object has', () => {
    const body = serializeOperationalPayload({ data: { reason: null }, timestamp: '2025-12-11T05:48:20.000Z', type: 'delivery.exhausted' } as never);
    expect(body).toBe('{"type":"delivery.exhausted","timestamp":"2025-12-11T05:48:20.000Z","data":{"reason":null}}');
  });

  it('refuses a type that is not one of the four', () => {
    expect(() => buildOperationalPayload({ type: 'destination.exploded' as OperationalEventType, occurredAtMs: 0, data: {} })).toThrow(/unknown operational notification type/);
  });

  it('refuses a time that is not a finite number', () => {
    expect(() => buildOperationalPayload({ type: 'destination.recovered', occurredAtMs: Number.NaN, data: {} })).toThrow(/occurredAtMs/);
  });
});
