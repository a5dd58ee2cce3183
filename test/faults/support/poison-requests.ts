import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/** What the fuzzer may aim at without the request turning valid: rows created before fuzzing. */
export interface PoisonFixtures {
  apiKey: string;
  /** The account every fixture row belongs to. */
  accountId: string;
  /** A key of another account, with every scope: whatever it asks of the fixtures' account must be 404. */
  foreignAccountKey: string;
  destinationId: string;
  /** event_id of a pending delivery (no worker runs in this scenario). */
  deliveryEventId: string;
  /** An event already ingested: its id and its body. */
  event: Record<string, unknown>;
}

/** What an answer must be beyond "not a 5xx", for requests whose only correct answers are known. */
export interface PoisonExpectation {
  description: string;
  accepts(status: number): boolean;
}

/** A request without a valid key on a route that exists. */
export const UNAUTHORISED: PoisonExpectation = { description: '401', accepts: (status) => status === 401 };
/** A request without a key on a path that may or may not spell a route: refused either way, never served. */
export const UNAUTHORISED_OR_UNROUTED: PoisonExpectation = { description: '401 or 404', accepts: (status) => status === 401 || status === 404 };
export const NOT_FOUND: PoisonExpectation = { description: '404', accepts: (status) => status === 404 };
export const CLIENT_ERROR: PoisonExpectation = { description: 'a 4xx', accepts: (status) => status >= 400 && status < 500 };

export type PoisonRequest =
  | { kind: 'http'; label: string; method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array; expected?: PoisonExpectation }
  | { kind: 'raw'; label: string; bytes: Uint8Array };
type HttpPoison = Extract<PoisonRequest, { kind: 'http' }>;

const CANONICAL = ['contact', 'subscribed', 'registration', 'deposit'];
const EVENT_FIELDS = ['id', 'canonical', 'uid', 'occurred_at_ms', 'data'];
const CLICK_FIELDS = ['uid', 'tg_id', 'fbclid', 'campaign_id', 'campaign_name', 'country'];
const DESTINATION_FIELDS = ['name', 'url', 'method', 'headers', 'event_map', 'enabled', 'timeout_ms', 'retry_policy'];
/** Fields a PATCH must not accept null for: null would erase a required column or a policy. */
const NON_NULLABLE_PATCH_FIELDS = ['url', 'retry_policy', 'headers', 'name'];
/** Never created in this scenario, so every request naming them answers 404. */
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';
const MISSING_EVENT_ID = '0'.repeat(32);
const BIG = 'x'.repeat(300 * 1024);

const printable = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:~!*'.split('')), minLength: 1, maxLength: 24 });

/** Any JSON value except null (null means "absent" to an optional field, which would make the request valid). */
const nonNullJunk = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** Never a valid id or uid: empty, with a space, too long, not ASCII, or not a string. */
const badIdentifier = fc.oneof(
  fc.constant(''),
  printable.map((text) => `${text} ${text}`),
  fc.constant('ü-not-ascii'),
  fc.constant('tab\there'),
  fc.string({ minLength: 256, maxLength: 300, unit: fc.constantFrom('a', 'b') }),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string(), { maxKeys: 2 }),
);

/** A key no DTO declares: forbidNonWhitelisted must refuse it, prototype-ish names included. */
const unknownKey = (known: string[]) =>
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'extra'),
    fc.string({ minLength: 1, maxLength: 12 }),
  ).filter((key) => !known.includes(key));

function withField(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...base };
  // defineProperty so a "__proto__" key becomes an own, serialised property rather than a prototype.
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

function without(base: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...base };
  delete copy[key];
  return copy;
}

const validEvent = fc.record({
  id: printable.map((text) => `fz-${text}`),
  canonical: fc.constantFrom('contact', 'subscribed', 'registration'),
  uid: printable,
});

/** An event body with at least one violation the API must refuse. */
const badEvent = validEvent.chain((event) =>
  fc.oneof(
    fc.oneof(fc.string().filter((text) => !CANONICAL.includes(text)), fc.integer(), fc.boolean(), fc.constant(null)).map((value) => withField(event, 'canonical', value)),
    fc.constant(without(event, 'canonical')),
    fc.oneof(badIdentifier, fc.constant(null)).map((value) => withField(event, 'uid', value)),
    fc.constant(without(event, 'uid')),
    badIdentifier.map((value) => withField(event, 'id', value)),
    fc
      .oneof(
        fc.double({ min: 1, max: 1e6, noInteger: true }),
        fc.integer({ min: -1_000_000, max: 946_684_799_999 }),
        fc.constantFrom(4_102_444_800_001, 1e300, -0.5),
        fc.string(),
        fc.boolean(),
        fc.array(fc.integer(), { maxLength: 2 }),
      )
      .map((value) => withField(event, 'occurred_at_ms', value)),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 })).map((value) => withField(event, 'data', value)),
    fc.tuple(unknownKey(['value', 'currency']), nonNullJunk).map(([key, value]) => withField(event, 'data', withField({}, key, value))),
    fc.oneof(fc.integer(), fc.constantFrom('25,00', '1e5', 'abc', '', '-1', '1.123456789', ' 1'), fc.boolean()).map((value) => withField(event, 'data', { value, currency: 'USD' })),
    fc.oneof(fc.constantFrom('usd', 'US', 'USDD', '', 'U$D'), fc.integer()).map((value) => withField(event, 'data', { value: '1.00', currency: value })),
    fc.constantFrom({}, { value: '1.00' }, { currency: 'USD' }).map((data) => ({ ...event, canonical: 'deposit', data })),
    fc.constant(without({ ...event, canonical: 'deposit' }, 'data')),
    fc.tuple(unknownKey(EVENT_FIELDS), nonNullJunk).map(([key, value]) => withField(event, key, value)),
  ),
);

const validClick = fc.record({ uid: printable.map((text) => `fz-${text}`) });

const badClick = validClick.chain((click) =>
  fc.oneof(
    fc.oneof(badIdentifier, fc.constant(null)).map((value) => withField(click, 'uid', value)),
    fc.constant(without(click, 'uid')),
    fc.oneof(fc.constantFrom(0, -5, 1.5, 2 ** 53 + 2, '123'), fc.boolean(), fc.array(fc.integer(), { maxLength: 1 })).map((value) => withField(click, 'tg_id', value)),
    fc.oneof(fc.string({ minLength: 513, maxLength: 600 }), fc.integer()).map((value) => withField(click, 'fbclid', value)),
    fc.oneof(fc.string({ minLength: 129, maxLength: 200 }), fc.boolean()).map((value) => withField(click, 'campaign_id', value)),
    fc.oneof(fc.string({ minLength: 257, maxLength: 300 }), fc.integer()).map((value) => withField(click, 'campaign_name', value)),
    fc.constantFrom('India', 'XX', '12', 'I', 'IND', 5).map((value) => withField(click, 'country', value)),
    fc.tuple(unknownKey(CLICK_FIELDS), nonNullJunk).map(([key, value]) => withField(click, key, value)),
  ),
);

const validDestination = fc.record({
  name: printable,
  url: fc.constant('http://127.0.0.1:9/poison'),
  event_map: fc.constant({ contact: 'Lead' }),
});

/** A single destination field that is always refused, for creates and for PATCH of the fixture. */
const badDestinationField: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.oneof(fc.constantFrom('', 'n'.repeat(201)), fc.integer(), fc.boolean()).map((value): [string, unknown] => ['name', value]),
  fc
    .constantFrom(
      'not a url',
      'ftp://127.0.0.1/file',
      'http://user:pw@127.0.0.1/',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://0.0.0.0/',
      'http://192.168.1.1/',
      'http://[fe80::1]/',
      'http://example.invalid/hook',
      'javascript:alert(1)',
      `http://127.0.0.1/${'a'.repeat(2100)}`,
      '',
      42,
      true,
    )
    .map((value): [string, unknown] => ['url', value]),
  fc.oneof(fc.constantFrom('GET', 'DELETE', 'post', ''), fc.integer()).map((value): [string, unknown] => ['method', value]),
  fc
    .constantFrom<unknown>(
      { Host: 'x' },
      { 'Content-Type': 'text/plain' },
      { 'webhook-id': 'x' },
      { 'X-A': 'a\r\nInjected: yes' },
      { 'X A': 'v' },
      { 'X-N': 5 },
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])),
      { 'X-Big': 'a'.repeat(5000) },
      { 'x-a': '1', 'X-A': '2' },
      [],
      'X-A: b',
    )
    .map((value): [string, unknown] => ['headers', value]),
  fc
    .constantFrom<unknown>({}, { purchase: 'X' }, { contact: '' }, { contact: 5 }, [], 'contact', { contact: 'a'.repeat(201) })
    .map((value): [string, unknown] => ['event_map', value]),
  fc.oneof(fc.constantFrom('true', 1, 0), fc.array(fc.boolean(), { maxLength: 1 })).map((value): [string, unknown] => ['enabled', value]),
  fc.constantFrom<unknown>(99, 60_001, 1.5, '1000', true, -1).map((value): [string, unknown] => ['timeout_ms', value]),
  fc
    .constantFrom<unknown>(
      { initial_interval_ms: 50 },
      { backoff_coefficient: 11 },
      { max_attempts: -1 },
      { max_age_ms: 500 },
      { max_interval_ms: 1e12 },
      { unknown: 1 },
      'fast',
      [],
      1,
    )
    .map((value): [string, unknown] => ['retry_policy', value]),
  fc.tuple(unknownKey(DESTINATION_FIELDS), nonNullJunk).map(([key, value]): [string, unknown] => [key, value]),
);

const badDestination = fc.oneof(
  fc.tuple(validDestination, badDestinationField).map(([destination, [key, value]]) => withField(destination, key, value)),
  fc.tuple(validDestination, fc.constantFrom('name', 'url', 'event_map')).map(([destination, key]) => without(destination, key)),
);

const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });

/** Bodies no JSON route can accept, whatever the route. */
const badBodyText = fc.oneof(
  fc.string({ maxLength: 40 }).filter((text) => {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value !== 'object';
    } catch {
      return true;
    }
  }),
  fc.constantFrom('[]', '[{}]', '[1,2]', '"text"', '42', 'null', 'true', '{', '{"canonical":', '{"a":1,}', "{'uid':'x'}", '\u0000', '{"uid":"x"}garbage'),
  fc.integer({ min: 200, max: 20_000 }).map((depth) => `{"data":${'{"value":'.repeat(depth)}"1"${'}'.repeat(depth)}}`),
  fc.integer({ min: 200, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
);

/** A JSON route of the account under `base` the body-level junk is sent to; none can succeed without a valid object body. */
const jsonRouteUnder = (base: string) =>
  fc.constantFrom(
    { method: 'POST', path: `${base}/events` },
    { method: 'POST', path: `${base}/clicks` },
    { method: 'POST', path: `${base}/destinations` },
    { method: 'PATCH', path: `${base}/destinations/${MISSING_UUID}` },
  );

const malformedId = fc.oneof(
  printable,
  fc.constantFrom('%E0%A4%A', '%00', '..%2F..%2Fetc', 'null', 'undefined', '1', '00000000-0000-0000-0000-00000000000g', '9'.repeat(3000)),
);
const malformedEventId = fc.oneof(printable, fc.constantFrom('ABCDEF'.repeat(5) + 'AB', '0'.repeat(31), '0'.repeat(33), 'g'.repeat(32), '%20'.repeat(10)));

/**
 * Spellings of a /v1 path that a lax router (case-insensitive, slash-merging, dot-resolving,
 * percent-decoding) or a path-prefix auth check might take for the route itself.
 */
const RESPELLINGS: Array<[string, (path: string) => string]> = [
  ['doubled leading slash', (path) => `/${path}`],
  ['doubled slash', (path) => path.replace(/^\/v1\//, '/v1//')],
  ['dot segment first', (path) => `/.${path}`],
  ['dot segment', (path) => path.replace(/^\/v1\//, '/v1/./')],
  ['dot-dot segment', (path) => path.replace(/^\/v1\//, '/v1/x/../')],
  ['encoded dot segment', (path) => path.replace(/^\/v1\//, '/%2e/v1/')],
  ['encoded slash', (path) => path.replace(/^\/v1\//, '/v1%2F')],
  ['encoded v', (path) => path.replace(/^\/v1\//, '/%761/')],
  ['encoded V1', (path) => path.replace(/^\/v1\//, '/%56%31/')],
  ['trailing slash', (path) => `${path}/`],
  ['trailing dot segment', (path) => `${path}/.`],
  ['upper case', (path) => path.toUpperCase()],
];

/** Flips the case of the letters the mask selects (at least one letter of /v1/<resource>), so the path differs only in case. */
function withCase(path: string, mask: boolean[]): string {
  const flipped = [...path].map((char, index) => (mask[index % mask.length] ? (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()) : char));
  const resourceInitial = path.indexOf('/', 1) + 1;
  if (flipped.join('') === path || flipped.slice(0, resourceInitial + 1).join('') === path.slice(0, resourceInitial + 1)) {
    flipped[resourceInitial] = path[resourceInitial]!.toUpperCase();
  }
  return flipped.join('');
}

/** Percent-encodes the character at `index` (modulo the path's length, slashes skipped). */
function withEncodedCharacter(path: string, index: number): string {
  const positions = [...path].flatMap((char, position) => (char === '/' ? [] : [position]));
  const position = positions[index % positions.length]!;
  return `${path.slice(0, position)}%${path.charCodeAt(position).toString(16).toUpperCase().padStart(2, '0')}${path.slice(position + 1)}`;
}

/** The 2,000 requests: weights keep every route well covered. */
export function poisonRequests(fixtures: PoisonFixtures): fc.Arbitrary<PoisonRequest> {
  /** Every tenant route of the fixtures' account lives under this path. */
  const T = `/v1/accounts/${fixtures.accountId}`;
  const jsonRoute = jsonRouteUnder(T);
  const auth = { authorization: `Bearer ${fixtures.apiKey}` };
  const http = (label: string, method: string, path: string, extra: { 'content-type'?: string; body?: string } = {}, headers: Record<string, string> = {}): HttpPoison => ({
    kind: 'http',
    label,
    method,
    path,
    headers: { ...auth, ...(extra['content-type'] ? { 'content-type': extra['content-type'] } : {}), ...headers },
    body: extra.body,
  });
  const fixtureId = String(fixtures.event.id);

  const events = fc.oneof(
    { weight: 8, arbitrary: badEvent.map((body) => http('POST …/events: invalid field', 'POST', `${T}/events`, json(body))) },
    {
      weight: 1,
      arbitrary: printable.map((uid) => http('POST …/events: id reused for another event', 'POST', `${T}/events`, json({ ...fixtures.event, uid: `other-${uid}` }))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validEvent, fc.oneof(printable, fc.constantFrom('a b', 'k'.repeat(256))))
        .map(([event, key]) => http('POST …/events: Idempotency-Key conflicts or is invalid', 'POST', `${T}/events`, json(event), { 'idempotency-key': key === event.id ? `${key}-other` : key })),
    },
  );
  const destinations = fc.oneof(
    { weight: 6, arbitrary: badDestination.map((body) => http('POST …/destinations: invalid field', 'POST', `${T}/destinations`, json(body))) },
    {
      weight: 3,
      arbitrary: badDestinationField.map(([key, value]) =>
        http('PATCH …/destinations/:id: invalid field', 'PATCH', `${T}/destinations/${fixtures.destinationId}`, json(withField({}, key, value))),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(malformedId, fc.jsonValue({ maxDepth: 2 })).map(([id, body]) => http('PATCH …/destinations/:id: bad id', 'PATCH', `${T}/destinations/${id}`, json(body))),
    },
    {
      weight: 1,
      arbitrary: validDestination.map((body) => http('PATCH …/destinations/:id: unknown id', 'PATCH', `${T}/destinations/${MISSING_UUID}`, json({ name: body.name }))),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('GET', 'DELETE'), fc.oneof(malformedId, fc.constant(MISSING_UUID))).map(([method, id]) => http(`${method} …/destinations/:id`, method, `${T}/destinations/${id}`)),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(malformedId, fc.constant(MISSING_UUID)).map((id) => http('POST …/destinations/:id/rotate-secret', 'POST', `${T}/destinations/${id}/rotate-secret`)),
    },
    {
      weight: 2,
      arbitrary: fc.subarray(NON_NULLABLE_PATCH_FIELDS, { minLength: 1 }).map((fields): PoisonRequest => ({
        ...http(`PATCH …/destinations/:id: ${fields.join(', ')} null`, 'PATCH', `${T}/destinations/${fixtures.destinationId}`, json(Object.fromEntries(fields.map((field) => [field, null])))),
        expected: CLIENT_ERROR,
      })),
    },
  );
  const clicks = badClick.map((body) => http('POST …/clicks: invalid field', 'POST', `${T}/clicks`, json(body)));
  const queryValue = fc.oneof(fc.constantFrom('0', '201', '-1', 'abc', '1.5', '', 'yesterday', '2025-13-45T99:00:00Z', 'not-a-uuid', '%ZZ'), printable);
  const deliveries = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .dictionary(fc.constantFrom('limit', 'status', 'canonical', 'destination_id', 'created_after', 'created_before', 'cursor', 'bogus'), queryValue, { minKeys: 1, maxKeys: 4 })
        .map((query) => http('GET …/deliveries?…', 'GET', `${T}/deliveries?${Object.entries(query).map(([key, value]) => `${key}=${value}`).join('&')}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')), printable)
        .map((cursor) => http('GET …/deliveries?cursor=', 'GET', `${T}/deliveries?cursor=${cursor}`)),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(malformedEventId, fc.constant(MISSING_EVENT_ID)).map((id) => http('GET …/deliveries/:event_id', 'GET', `${T}/deliveries/${id}`)),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('cancel', 'retry'), fc.oneof(malformedEventId, fc.constant(MISSING_EVENT_ID))).map(([action, id]) => http(`POST …/deliveries/:event_id/${action}`, 'POST', `${T}/deliveries/${id}/${action}`)),
    },
    // Retrying a delivery that has not failed is refused (409) after the database was consulted.
    { weight: 1, arbitrary: fc.constant(http('POST …/deliveries/:event_id/retry of a pending delivery', 'POST', `${T}/deliveries/${fixtures.deliveryEventId}/retry`)) },
  );
  const bodies = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(jsonRoute, badBodyText).map(([route, body]) => http(`${route.method} ${route.path.replace(MISSING_UUID, ':id')}: body not a JSON object`, route.method, route.path, { 'content-type': 'application/json', body })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(jsonRoute, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-7', 'application/json; charset=latin2', 'application/json; charset=bogus'))
        .map(([route, type]) => http(`${route.method} ${route.path.replace(MISSING_UUID, ':id')}: content-type ${type}`, route.method, route.path, { 'content-type': type, body: 'canonical=contact&uid=x' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(jsonRoute, fc.constantFrom('gzip', 'deflate', 'br', 'x-bogus', 'gzip, gzip'))
        .map(([route, encoding]) => http(`${route.method} ${route.path.replace(MISSING_UUID, ':id')}: content-encoding ${encoding}`, route.method, route.path, { 'content-type': 'application/json', body: '{"uid":"x"}' }, { 'content-encoding': encoding })),
    },
    {
      weight: 1,
      arbitrary: jsonRoute.map((route) => http(`${route.method} ${route.path.replace(MISSING_UUID, ':id')}: body over 256 KiB`, route.method, route.path, { 'content-type': 'application/json', body: JSON.stringify({ uid: 'x', padding: BIG }) })),
    },
  );
  const unauthorised = fc
    .tuple(
      fc.constantFrom(
        { method: 'POST', path: `${T}/events`, body: { canonical: 'contact', uid: 'no-auth' } },
        { method: 'POST', path: `${T}/clicks`, body: { uid: 'no-auth' } },
        { method: 'POST', path: `${T}/destinations`, body: { name: 'n', url: 'http://127.0.0.1:9/', event_map: { contact: 'Lead' } } },
        { method: 'DELETE', path: `${T}/destinations/${fixtures.destinationId}`, body: undefined },
        { method: 'POST', path: `${T}/destinations/${fixtures.destinationId}/rotate-secret`, body: undefined },
        { method: 'POST', path: `${T}/deliveries/${fixtures.deliveryEventId}/cancel`, body: undefined },
      ),
      fc.oneof(
        fc.constant(undefined),
        fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `bearer ${fixtures.apiKey}x`, `Bearer ${fixtures.apiKey.slice(0, -1)}`, `Token ${fixtures.apiKey}`, `Bearer ${'k'.repeat(8000)}`),
        printable.map((text) => `Bearer ${text}`),
      ),
    )
    .map(([route, authorization]): PoisonRequest => ({
      kind: 'http',
      label: `${route.method} ${route.path.replace(fixtures.destinationId, ':id').replace(fixtures.deliveryEventId, ':event_id')}: bad credentials`,
      method: route.method,
      path: route.path,
      headers: { ...(authorization === undefined ? {} : { authorization }), ...(route.body ? { 'content-type': 'application/json' } : {}) },
      body: route.body ? JSON.stringify(route.body) : undefined,
      expected: UNAUTHORISED,
    }));
  // Requests that would succeed with a key on the canonical path: served under another spelling, they would be 2xx and change the database.
  const respelled = fc
    .tuple(
      fc.constantFrom(
        { method: 'GET', path: `${T}/destinations`, body: undefined },
        { method: 'GET', path: `${T}/deliveries`, body: undefined },
        { method: 'GET', path: `${T}/deliveries/${fixtures.deliveryEventId}`, body: undefined },
        { method: 'POST', path: `${T}/events`, body: { id: 'respelled', canonical: 'contact', uid: 'no-auth' } },
        { method: 'POST', path: `${T}/clicks`, body: { uid: 'no-auth' } },
        { method: 'POST', path: `${T}/destinations`, body: { name: 'n', url: 'http://127.0.0.1:9/', event_map: { contact: 'Lead' } } },
        { method: 'PATCH', path: `${T}/destinations/${fixtures.destinationId}`, body: { name: 'renamed' } },
        { method: 'DELETE', path: `${T}/destinations/${fixtures.destinationId}`, body: undefined },
        { method: 'POST', path: `${T}/destinations/${fixtures.destinationId}/rotate-secret`, body: undefined },
        { method: 'POST', path: `${T}/deliveries/${fixtures.deliveryEventId}/cancel`, body: undefined },
      ),
      fc.oneof(
        fc.array(fc.boolean(), { minLength: 8, maxLength: 40 }).map((mask): [string, (path: string) => string] => ['mixed case', (path) => withCase(path, mask)]),
        fc.nat().map((index): [string, (path: string) => string] => ['one character percent-encoded', (path) => withEncodedCharacter(path, index)]),
        fc.constantFrom(...RESPELLINGS),
      ),
    )
    .map(([route, [spelling, respell]]): PoisonRequest => ({
      kind: 'http',
      label: `${route.method} ${route.path.replace(fixtures.destinationId, ':id').replace(fixtures.deliveryEventId, ':event_id')}: no key, ${spelling}`,
      method: route.method,
      path: respell(route.path),
      headers: route.body ? { 'content-type': 'application/json' } : {},
      body: route.body ? JSON.stringify(route.body) : undefined,
      expected: UNAUTHORISED_OR_UNROUTED,
    }));
  const odd = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(
          { method: 'PUT', path: `${T}/events` },
          { method: 'DELETE', path: `${T}/events` },
          { method: 'GET', path: `${T}/events` },
          { method: 'DELETE', path: `${T}/clicks` },
          { method: 'PUT', path: `${T}/destinations` },
          { method: 'DELETE', path: `${T}/destinations` },
          { method: 'POST', path: `${T}/deliveries` },
          { method: 'POST', path: '/health' },
          { method: 'DELETE', path: '/metrics' },
          { method: 'POST', path: '/v2/events' },
          { method: 'GET', path: '/v1/%2e%2e/%2e%2e/etc/passwd' },
          { method: 'GET', path: `${T}/destinations/%E0%A4%A` },
          { method: 'GET', path: `/${'a'.repeat(6000)}` },
          { method: 'OPTIONS', path: `${T}/events` },
          { method: 'HEAD', path: `${T}/deliveries` },
        ),
        fc.option(fc.jsonValue({ maxDepth: 1 })),
      )
      .map(([route, body]) => http(`${route.method} ${route.path.slice(0, 40)}`, route.method, route.path, body === null ? {} : json(body))),
    fc
      .tuple(fc.constantFrom('/health', '/ready', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/swagger-ui-init.js'), fc.option(queryValue))
      .map(([path, query]) => http(`GET ${path}`, 'GET', query === null ? path : `${path}?${query}=${query}`, {}, {})),
  );
  const raw = fc
    .oneof(
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ label: 'raw: random bytes', text: Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]) })),
      fc
        .constantFrom(
          'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}',
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n',
          'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
          'GET /\r\n\r\n',
          'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n',
          `GET / HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
          'G\u0000ET / HTTP/1.1\r\nHost: x\r\n\r\n',
          'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
          `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
          'GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n',
        )
        .map((text) => ({ label: `raw: ${JSON.stringify(text.slice(0, 24))}`, text: Buffer.from(text, 'latin1') })),
    )
    .map(({ label, text }): PoisonRequest => ({ kind: 'raw', label, bytes: text }));

  // Another account's key on this account's routes and rows: each must find nothing (404), exactly as if absent.
  const crossAccount = fc
    .constantFrom(
      { method: 'GET', path: `${T}/destinations`, body: undefined },
      { method: 'GET', path: `${T}/destinations/${fixtures.destinationId}`, body: undefined },
      { method: 'PATCH', path: `${T}/destinations/${fixtures.destinationId}`, body: { name: 'taken over' } },
      { method: 'DELETE', path: `${T}/destinations/${fixtures.destinationId}`, body: undefined },
      { method: 'POST', path: `${T}/destinations/${fixtures.destinationId}/rotate-secret`, body: undefined },
      { method: 'POST', path: `${T}/destinations`, body: { name: 'n', url: 'http://127.0.0.1:9/', event_map: { contact: 'Lead' } } },
      { method: 'POST', path: `${T}/events`, body: { id: 'cross-account', canonical: 'contact', uid: 'x' } },
      { method: 'POST', path: `${T}/clicks`, body: { uid: 'cross-account' } },
      { method: 'GET', path: `${T}/deliveries`, body: undefined },
      { method: 'GET', path: `${T}/deliveries/${fixtures.deliveryEventId}`, body: undefined },
      { method: 'POST', path: `${T}/deliveries/${fixtures.deliveryEventId}/cancel`, body: undefined },
      { method: 'POST', path: `${T}/deliveries/${fixtures.deliveryEventId}/retry`, body: undefined },
      { method: 'GET', path: T, body: undefined },
      { method: 'GET', path: `${T}/api-keys`, body: undefined },
    )
    .map((route): PoisonRequest => ({
      kind: 'http',
      label: `${route.method} ${route.path.replace(T, '…').replace(fixtures.destinationId, ':id').replace(fixtures.deliveryEventId, ':event_id')}: another account's key`,
      method: route.method,
      path: route.path,
      headers: { authorization: `Bearer ${fixtures.foreignAccountKey}`, ...(route.body ? { 'content-type': 'application/json' } : {}) },
      body: route.body ? JSON.stringify(route.body) : undefined,
      expected: NOT_FOUND,
    }));

  return fc.oneof(
    { weight: 6, arbitrary: crossAccount },
    { weight: 22, arbitrary: events },
    { weight: 18, arbitrary: destinations },
    { weight: 10, arbitrary: clicks },
    { weight: 12, arbitrary: deliveries },
    { weight: 14, arbitrary: bodies },
    { weight: 8, arbitrary: unauthorised },
    { weight: 6, arbitrary: respelled },
    { weight: 8, arbitrary: odd },
    { weight: 8, arbitrary: raw },
  );
}

/** The request in a few hundred characters, for a failure message. */
export function describePoison(poison: PoisonRequest): string {
  const text = poison.kind === 'raw' ? Buffer.from(poison.bytes).toString('latin1') : `${poison.method} ${poison.path} ${JSON.stringify(poison.headers)} ${typeof poison.body === 'string' ? poison.body : ''}`;
  return `${poison.label} — ${JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text)}`;
}

export interface PoisonAnswer {
  /** 0 when no status line came back (the server closed the connection, as Node does for garbage). */
  status: number;
  body: string;
}

/** Sends one poison request and returns the status (no redirects followed, nothing retried). */
export function sendPoison(port: number, poison: PoisonRequest): Promise<PoisonAnswer> {
  return poison.kind === 'raw' ? sendRaw(port, poison.bytes) : sendHttp(port, poison);
}

function sendHttp(port: number, poison: HttpPoison): Promise<PoisonAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: poison.method, path: poison.path, headers: poison.headers, timeout: 30_000, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 500) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within 30 s to ${poison.label}`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      // An over-large body may be answered (413) and the socket closed before we finished writing it.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') resolve({ status: 0, body: `connection closed by the server (${error.code})` });
      else reject(error);
    });
    request.end(poison.body);
  });
}

function sendRaw(port: number, bytes: Uint8Array): Promise<PoisonAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : 0, body: text.slice(0, 300) });
    };
    // Node answers garbage and closes; a request that merely looks incomplete is given up on.
    const timer = setTimeout(finish, 5_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (/\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}
