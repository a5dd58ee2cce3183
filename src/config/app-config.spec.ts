import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config.js';

const PRODUCTION = {
  DATABASE_URL: 'postgres://u@db:5432/x',
  TEMPORAL_ADDRESS: 'temporal:7233',
  API_KEYS: 'k-0123456789abcdef',
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(PRODUCTION, { process: 'api' });
    expect(config.port).toBe(3000);
    expect(config.temporal).toMatchObject({ namespace: 'default', taskQueue: 'webhook-deliveries' });
    expect(config.delivery).toMatchObject({ initialIntervalMs: 10_000, maxIntervalMs: 3_600_000, maxAgeMs: 259_200_000, timeoutMs: 15_000 });
    expect(config.allowedCidrs).toEqual([]);
  });

  it('binds the worker metrics to this host only and applies the documented limits unless told otherwise', () => {
    const config = loadConfig(PRODUCTION, { process: 'api' });
    expect(config.metricsHost).toBe('127.0.0.1');
    expect(config.rateLimitUnauthenticatedPerMinute).toBe(60);
    expect(config.limits).toEqual({ maxDestinations: 100, minRetryIntervalMs: 1_000 });
    expect(loadConfig({ ...PRODUCTION, METRICS_HOST: '0.0.0.0' }, { process: 'api' }).metricsHost).toBe('0.0.0.0');
  });

  it('trusts no proxy unless TRUST_PROXY names hops or addresses, and refuses anything else', () => {
    expect(loadConfig(PRODUCTION, { process: 'api' }).trustProxy).toBe(false);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: '1' }, { process: 'api' }).trustProxy).toBe(1);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::1' }, { process: 'api' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
    expect(() => loadConfig({ ...PRODUCTION, TRUST_PROXY: 'everyone' }, { process: 'api' })).toThrow(/TRUST_PROXY/);
  });

  it('keeps deliveries 30 days unless RETENTION_DAYS says otherwise, and refuses 0 or a fraction', () => {
    expect(loadConfig(PRODUCTION, { process: 'api' }).retentionDays).toBe(30);
    expect(loadConfig({ ...PRODUCTION, RETENTION_DAYS: '7' }, { process: 'api' }).retentionDays).toBe(7);
    expect(() => loadConfig({ ...PRODUCTION, RETENTION_DAYS: '0' }, { process: 'api' })).toThrow(/RETENTION_DAYS/);
    expect(() => loadConfig({ ...PRODUCTION, RETENTION_DAYS: '1.5' }, { process: 'api' })).toThrow(/RETENTION_DAYS/);
  });

  it('runs first attempts as local activities unless FIRST_ATTEMPT_LOCAL=false, and refuses anything but true or false', () => {
    expect(loadConfig(PRODUCTION, { process: 'worker' }).temporal.firstAttemptLocal).toBe(true);
    expect(loadConfig({ ...PRODUCTION, FIRST_ATTEMPT_LOCAL: 'false' }, { process: 'worker' }).temporal.firstAttemptLocal).toBe(false);
    expect(() => loadConfig({ ...PRODUCTION, FIRST_ATTEMPT_LOCAL: 'yes' }, { process: 'worker' })).toThrow(/FIRST_ATTEMPT_LOCAL must be true or false, got "yes"/);
  });

  it('refuses a minimum retry interval under 100 ms', () => {
    expect(() => loadConfig({ ...PRODUCTION, RETRY_MIN_INTERVAL_MS: '10' }, { process: 'api' })).toThrow(/RETRY_MIN_INTERVAL_MS/);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ ...PRODUCTION, PORT: 'eighty', RETRY_MAX_AGE_MS: '-5', WEBHOOK_ALLOWED_CIDRS: 'nonsense', LOG_LEVEL: 'loud' }, { process: 'api' });
      expect.unreachable('loadConfig accepted bad variables');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT');
      expect(problems).toContain('RETRY_MAX_AGE_MS');
      expect(problems).toContain('WEBHOOK_ALLOWED_CIDRS');
      expect(problems).toContain('LOG_LEVEL');
    }
  });

  it('refuses to start the production API without API keys', () => {
    expect(() => loadConfig({ ...PRODUCTION, API_KEYS: '' }, { process: 'api' })).toThrow(/API_KEYS is required/);
  });

  it('starts the production worker without API keys', () => {
    expect(loadConfig({ ...PRODUCTION, API_KEYS: '' }, { process: 'worker' }).apiKeys).toEqual([]);
  });

  it('requires DATABASE_URL and TEMPORAL_ADDRESS outside dev', () => {
    expect(() => loadConfig({ API_KEYS: PRODUCTION.API_KEYS }, { process: 'worker' })).toThrow(/DATABASE_URL[\s\S]*TEMPORAL_ADDRESS/);
  });

  it('splits API_KEYS on commas', () => {
    expect(loadConfig({ ...PRODUCTION, API_KEYS: 'k-0123456789abcdef, k-fedcba9876543210' }, { process: 'api' }).apiKeys).toEqual([
      'k-0123456789abcdef',
      'k-fedcba9876543210',
    ]);
  });
});
