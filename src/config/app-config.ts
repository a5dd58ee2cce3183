import type { RetryPolicy } from '../../contract/delivery-plan.js';
import { parseCidrList, type Cidr } from '../url-policy/cidr.js';

/**
 * Process configuration, parsed once at boot from the environment.
 * Every bad variable is reported together so an operator fixes them in one go.
 */
/** The configured retry policy (RETRY_*) and attempt timeout a destination's overrides start from. */
export interface DeliveryDefaults extends RetryPolicy {
  timeoutMs: number;
}

export interface AppConfig {
  logLevel: LogLevel;
  port: number;
  /** Port of a production worker's /metrics endpoint (the API serves /metrics on `port`). */
  metricsPort: number;
  /** Interface the worker's /metrics binds to: this host only unless an operator opens it. */
  metricsHost: string;
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    cliPath: string | undefined;
    /**
     * FIRST_ATTEMPT_LOCAL (default true): a delivery's first attempt runs as a local activity in the
     * workflow task that started it (6 history events for a first-try success instead of 11); retries
     * are regular activities under Temporal's retry policy (docs/SCALING.md). Read when a run starts.
     */
    firstAttemptLocal: boolean;
  };
  apiKeys: string[];
  allowedCidrs: Cidr[];
  delivery: DeliveryDefaults;
  /** How long the previous signing secret keeps signing after a rotation. */
  signingSecretGracePeriodMs: number;
  /** Requests per minute per API key on /v1 routes; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /**
   * Requests per minute per client address that carry no valid key (401s included), so keys cannot
   * be guessed at line rate; 0 turns the limit off.
   */
  rateLimitUnauthenticatedPerMinute: number;
  limits: DeliveryLimits;
  traffic: TrafficDefaults;
  /**
   * Express's `trust proxy`: which hops may set X-Forwarded-For, so the per-address limit counts
   * clients rather than the load balancer. False (the peer address counts) unless configured.
   */
  trustProxy: boolean | number | string[];
  portal: PortalConfig;
  /** RETENTION_DAYS: deliveries, attempts and events older than this are purged, unless the account sets its own. */
  retentionDays: number;
  outbox: OutboxConfig;
}

/** The ingest outbox and its dispatchers (README "How ingest reaches Temporal"). */
export interface OutboxConfig {
  /**
   * OUTBOX_LISTEN=false: dispatchers do not hold a LISTEN connection and are woken only by ingests
   * of their own process and their poll. `npm run dev` turns it off on its single-connection
   * embedded PostgreSQL, where API and worker share the process anyway.
   */
  listen: boolean;
  /** DISPATCH_WINDOW_FACTOR: a destination's dispatch window is this × its max_in_flight (or rate per second). */
  windowFactor: number;
  /** DISPATCH_WINDOW_MIN: the smallest dispatch window of any destination. */
  windowMinimum: number;
}

/** The customer portal (README "Customer portal"). */
export interface PortalConfig {
  /**
   * PORTAL_FRAME_ANCESTORS: the CSP `frame-ancestors` sources allowed to embed /portal, e.g.
   * `https://dashboard.xtracker.com`; unset = `'none'` (the portal cannot be framed at all).
   */
  frameAncestors: string[];
  /** PORTAL_SECURE_COOKIE=true: the session cookie is Secure even when the request came over plain http (a TLS proxy without TRUST_PROXY). */
  forceSecureCookie: boolean;
}

/** Bounds on what one caller can make the service do; documented in docs/SECURITY.md. */
export interface DeliveryLimits {
  /** Destinations that may exist at once (per caller); also bounds the fan-out of one event. */
  maxDestinations: number;
  /** Smallest retry interval a destination may ask for, and the floor under any Retry-After. */
  minRetryIntervalMs: number;
}

/** Traffic control defaults (docs/TRAFFIC.md); destinations and accounts may override the limits. */
export interface TrafficDefaults {
  /** DEFAULT_MAX_IN_FLIGHT: attempts in flight per destination unless it or its account says otherwise. */
  maxInFlight: number;
  /** DEFAULT_RATE_LIMIT_PER_SECOND: requests per second per destination; null (unset) = no limit. */
  ratePerSecond: number | null;
  breakerFailureThreshold: number;
  breakerCooldownMs: number;
  /** AUTO_DISABLE_AFTER_MS: failing this long without a success disables a destination; null (0) = never. */
  autoDisableAfterMs: number | null;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /**
   * The API needs API keys, the worker does not; both need the database and Temporal.
   * `npm run dev` fills in embedded ones before it loads the configuration as the API does.
   */
  process: 'api' | 'worker';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function loadConfig(env: Env, options: LoadConfigOptions): AppConfig {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  };
  const text = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };

  const port = integer('PORT', 3000, 0, 65535);
  const metricsPort = integer('METRICS_PORT', 9464, 0, 65535);
  const metricsHost = text('METRICS_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(metricsHost)) problems.push(`METRICS_HOST must be an address or host name, got "${metricsHost}"`);
  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// connection string');
  }
  const address = text('TEMPORAL_ADDRESS');
  if (address !== undefined && !/^[^\s:/]+:\d{1,5}$/.test(address)) {
    problems.push(`TEMPORAL_ADDRESS must be host:port, got "${address}"`);
  }

  const apiKeys = (text('API_KEYS') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  if (apiKeys.some((key) => key.length < 16)) {
    problems.push('API_KEYS entries must be at least 16 characters long');
  }

  let allowedCidrs: Cidr[] = [];
  try {
    allowedCidrs = parseCidrList(text('WEBHOOK_ALLOWED_CIDRS') ?? '');
  } catch (error) {
    problems.push(`WEBHOOK_ALLOWED_CIDRS: ${(error as Error).message}`);
  }

  const delivery: DeliveryDefaults = {
    initialIntervalMs: integer('RETRY_INITIAL_INTERVAL_MS', 10_000, 1),
    backoffCoefficient: 2,
    maxIntervalMs: integer('RETRY_MAX_INTERVAL_MS', 3_600_000, 1),
    maxAttempts: 0,
    maxAgeMs: integer('RETRY_MAX_AGE_MS', 259_200_000, 1_000),
    timeoutMs: integer('DELIVERY_TIMEOUT_MS', 15_000, 100, 300_000),
  };
  const rateLimitPerMinute = integer('RATE_LIMIT_PER_MINUTE', 6000, 0);
  const rateLimitUnauthenticatedPerMinute = integer('RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 60, 0);
  const trustProxy = parseTrustProxy(text('TRUST_PROXY'), problems);
  const limits: DeliveryLimits = {
    maxDestinations: integer('MAX_DESTINATIONS', 100, 1, 10_000),
    minRetryIntervalMs: integer('RETRY_MIN_INTERVAL_MS', 1_000, 100, 3_600_000),
  };
  const defaultRate = text('DEFAULT_RATE_LIMIT_PER_SECOND');
  let ratePerSecond: number | null = null;
  if (defaultRate !== undefined) {
    ratePerSecond = Number(defaultRate);
    if (!/^\d+(\.\d+)?$/.test(defaultRate) || !(ratePerSecond > 0) || ratePerSecond > 10_000) {
      problems.push(`DEFAULT_RATE_LIMIT_PER_SECOND must be a number above 0 and at most 10000, got "${defaultRate}"`);
      ratePerSecond = null;
    }
  }
  const autoDisableAfterMs = integer('AUTO_DISABLE_AFTER_MS', 5 * 86_400_000, 0, 365 * 86_400_000);
  const traffic: TrafficDefaults = {
    maxInFlight: integer('DEFAULT_MAX_IN_FLIGHT', 20, 1, 10_000),
    ratePerSecond,
    breakerFailureThreshold: integer('BREAKER_FAILURE_THRESHOLD', 10, 1, 10_000),
    breakerCooldownMs: integer('BREAKER_COOLDOWN_MS', 30_000, 100, 3_600_000),
    autoDisableAfterMs: autoDisableAfterMs === 0 ? null : autoDisableAfterMs,
  };
  // The account override's bound too (MAX_RETENTION_DAYS, and the migration's CHECK).
  const retentionDays = integer('RETENTION_DAYS', 30, 1, 3650);
  const signingSecretGracePeriodMs = integer('SIGNING_SECRET_GRACE_PERIOD_MS', 86_400_000, 0, 30 * 86_400_000);
  if (delivery.maxIntervalMs < delivery.initialIntervalMs) {
    problems.push('RETRY_MAX_INTERVAL_MS must not be smaller than RETRY_INITIAL_INTERVAL_MS');
  }

  const logLevel = (text('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const portal: PortalConfig = {
    frameAncestors: parseFrameAncestors(text('PORTAL_FRAME_ANCESTORS'), problems),
    forceSecureCookie: text('PORTAL_SECURE_COOKIE') === 'true',
  };
  const secureCookie = text('PORTAL_SECURE_COOKIE');
  if (secureCookie !== undefined && secureCookie !== 'true' && secureCookie !== 'false') {
    problems.push(`PORTAL_SECURE_COOKIE must be true or false, got "${secureCookie}"`);
  }

  const outboxListen = text('OUTBOX_LISTEN');
  if (outboxListen !== undefined && outboxListen !== 'true' && outboxListen !== 'false') {
    problems.push(`OUTBOX_LISTEN must be true or false, got "${outboxListen}"`);
  }
  const firstAttemptLocal = text('FIRST_ATTEMPT_LOCAL');
  if (firstAttemptLocal !== undefined && firstAttemptLocal !== 'true' && firstAttemptLocal !== 'false') {
    problems.push(`FIRST_ATTEMPT_LOCAL must be true or false, got "${firstAttemptLocal}"`);
  }
  const outbox: OutboxConfig = {
    listen: outboxListen !== 'false',
    windowFactor: integer('DISPATCH_WINDOW_FACTOR', 2, 1, 1_000),
    windowMinimum: integer('DISPATCH_WINDOW_MIN', 10, 1, 100_000),
  };

  if (options.process === 'api' && apiKeys.length === 0) problems.push('API_KEYS is required (`npm run dev` generates one)');
  if (databaseUrl === undefined) problems.push('DATABASE_URL is required (`npm run dev` embeds a PostgreSQL)');
  if (address === undefined) problems.push('TEMPORAL_ADDRESS is required (`npm run dev` starts a Temporal dev server)');

  if (problems.length > 0 || databaseUrl === undefined || address === undefined) throw new ConfigError(problems);

  return {
    logLevel,
    port,
    metricsPort,
    metricsHost,
    databaseUrl,
    temporal: {
      address,
      namespace: text('TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: text('TEMPORAL_TASK_QUEUE') ?? 'webhook-deliveries',
      cliPath: text('TEMPORAL_CLI_PATH'),
      firstAttemptLocal: firstAttemptLocal !== 'false',
    },
    apiKeys,
    allowedCidrs,
    delivery,
    signingSecretGracePeriodMs,
    rateLimitPerMinute,
    rateLimitUnauthenticatedPerMinute,
    limits,
    traffic,
    trustProxy,
    portal,
    retentionDays,
    outbox,
  };
}

/** A CSP source the portal may be framed by: a scheme and host (`*.` allowed), an optional port, nothing after. */
const FRAME_ANCESTOR_ORIGIN = /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/;

/**
 * PORTAL_FRAME_ANCESTORS: origins separated by spaces or commas, and `'self'`; `'none'` alone.
 * Each entry is checked whole, so nothing can end the directive and inject another (no `;`).
 */
function parseFrameAncestors(raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined) return ["'none'"];
  const entries = raw.split(/[\s,]+/).filter((entry) => entry !== '');
  if (entries.length === 1 && entries[0] === "'none'") return entries;
  const bad = entries.filter((entry) => entry !== "'self'" && !FRAME_ANCESTOR_ORIGIN.test(entry));
  if (entries.length === 0 || bad.length > 0) {
    problems.push(`PORTAL_FRAME_ANCESTORS must be 'none', or origins such as https://dashboard.example.com and 'self', got "${raw}"`);
    return ["'none'"];
  }
  return entries;
}

/**
 * TRUST_PROXY: unset or `false` (trust no proxy), a hop count (`1` behind one load balancer), or
 * comma-separated addresses, CIDRs and Express's names `loopback`, `linklocal`, `uniquelocal`.
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): boolean | number | string[] {
  if (raw === undefined || raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  const bad = entries.filter((entry) => {
    if (named.has(entry)) return false;
    try {
      parseCidrList(entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`);
      return false;
    } catch {
      return true;
    }
  });
  if (entries.length === 0 || bad.length > 0) {
    problems.push(`TRUST_PROXY must be false, a hop count, or addresses/CIDRs/loopback/linklocal/uniquelocal, got "${raw}"`);
    return false;
  }
  return entries;
}
