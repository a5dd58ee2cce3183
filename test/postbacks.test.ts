import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLogs } from './support/captured-logs.js';
import { Receiver } from './support/receiver.js';
import { createDestination, deliveryReaches, getDelivery, inFreshAccount, uniqueId } from './support/fixtures.js';
import { useTestApp, type TestApp } from './support/test-app.js';

/** Everything the process logs from here on: the secret part of a template must never be in it. */
const capturedLogs = captureLogs();

describe('postback destinations and routing rules', () => {
  const shared = useTestApp();
  /** Each test in an account of its own, with a receiver of its own (reply scripts count its requests). */
  let app: TestApp;
  let receiver: Receiver;
  const receivers: Receiver[] = [];
  beforeEach(async () => {
    app = await inFreshAccount(shared);
    receiver = await Receiver.start();
    receivers.push(receiver);
  });
  afterAll(async () => {
    await Promise.all(receivers.map((each) => each.close()));
  });

  async function click(uid: string, fields: Record<string, unknown>): Promise<void> {
    const response = await app.request('POST', app.path('/clicks'), { uid, ...fields });
    expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
  }

  async function deposit(uid: string, id = uniqueId('dep'), value = '25.00'): Promise<{ eventId: string; id: string; body: any }> {
    const response = await app.request('POST', app.path('/events'), { id, canonical: 'deposit', uid, occurred_at_ms: 1765432100000, data: { value, currency: 'USD' } });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return { eventId: response.body.deliveries[0]?.event_id, id, body: response.body };
  }

  const requestsAt = (path: string) => receiver.requests.filter((request) => request.path.startsWith(path));

  it('fills a Keitaro-style template, each value percent-encoded so the query decodes to exactly what was tracked', async () => {
    const uid = `kt-${uniqueId('u')}&=#%+`;
    await click(uid, { campaign_id: '120001', campaign_name: 'promo & co = #1 % +x é', country: 'IN' });
    await createDestination(app, {
      name: 'keitaro',
      format: 'postback',
      url_template: `${receiver.url}/kt/postback?subid={uid}&status={event}&payout={value}&currency={currency}&tid={transaction_id}&cname={campaign_name}&fbclid={fbclid}&ts={occurred_at}&cid={event_id}`,
      event_map: { deposit: 'sale' },
    });
    const id = `dep+42&more=%#${uniqueId("t")}`;
    const { eventId } = await deposit(uid, id);
    await deliveryReaches(app, eventId, ['sent']);

    const [request] = requestsAt('/kt/');
    expect(request?.method).toBe('GET');
    const query = Object.fromEntries(new URL(request!.path, 'http://x').searchParams);
    expect(query).toEqual({
      subid: uid,
      status: 'sale',
      payout: '25.00',
      currency: 'USD',
      tid: id,
      cname: 'promo & co = #1 % +x é',
      fbclid: '',
      ts: '1765432100',
      cid: eventId,
    });
    // The same event_id on every attempt, for JSON in the body and header; for postbacks as {event_id} — and the header too.
    expect(request?.headers['webhook-id']).toBe(eventId);
    const delivery = await getDelivery(app, eventId);
    expect(delivery.attempts[0].request).toBe(`GET ${receiver.url}${request!.path}`);
  });

  it('sends the query as a form body when the method is POST', async () => {
    const uid = uniqueId('form');
    await click(uid, { campaign_id: '9', country: 'BR' });
    await createDestination(app, { name: 'form', format: 'postback', method: 'POST', url_template: `${receiver.url}/form/pb?clickid={uid}&type={event}&c={country}`, event_map: { deposit: 'Deposit' } });
    const { eventId } = await deposit(uid);
    await deliveryReaches(app, eventId, ['sent']);
    const [request] = requestsAt('/form/');
    expect(request).toMatchObject({ method: 'POST', path: '/form/pb' });
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request!.body))).toEqual({ clickid: uid, type: 'Deposit', c: 'BR' });
  });

  it.each([
    [{ url_template: `http://127.0.0.1:9/pb?x={payout}` }, 'unknown macro {payout}'],
    [{ url_template: `https://{campaign_id}.tracker.example/pb` }, 'macro {campaign_id} is not allowed in the scheme, host or port'],
    [{ url_template: `http://127.0.0.1:{tg_id}/pb` }, 'macro {tg_id} is not allowed in the scheme, host or port'],
    [{ url_template: `https://10.1.2.3/pb?x={uid}` }, 'not public'],
    [{ url_template: `http://127.0.0.1:9/{secret.key}/pb` }, 'template_secrets has no "key"'],
    [{ url: 'http://127.0.0.1:9/pb' }, 'a postback destination takes url_template, not url'],
    [{}, 'url_template is required'],
    [{ url_template: `http://127.0.0.1:9/pb?x={uid}`, method: 'PUT' }, 'method PUT is not allowed for a postback destination'],
    [{ url_template: `http://127.0.0.1:9/pb?x={uid}`, success_body: '^(a+)+$' }, 'exponential time'],
  ])('refuses a postback destination %j at save: 400 naming the problem', async (fields, problem) => {
    const response = await app.request('POST', app.path('/destinations'), { name: 'bad', format: 'postback', event_map: { deposit: 'sale' }, ...fields });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(String(response.body.message)).toContain(problem);
  });

  it('retries a 200 whose body lacks success_body, with the reason recorded, and sends on the one that has it', async () => {
    const uid = uniqueId('ok');
    const path = `/ok-${uniqueId('p')}`;
    receiver.replyWith({ status: 200, body: 'error: unknown click' }, { status: 200, body: 'OK' });
    await createDestination(app, { name: 'ok', format: 'postback', url_template: `${receiver.url}${path}?subid={uid}`, success_body: 'OK', event_map: { deposit: 'sale' } });
    const { eventId } = await deposit(uid);
    const sent = await deliveryReaches(app, eventId, ['sent']);
    receiver.replyWith(200);
    expect(sent.attempts).toHaveLength(2);
    expect(sent.attempts[0]).toMatchObject({ status_code: 200, error: 'UnexpectedResponseBody: receiver answered HTTP 200 without the expected success_body', response_body: 'error: unknown click' });
    expect(sent.attempts[1]).toMatchObject({ status_code: 200, error: null });
  });

  it("sends one campaign's events and keeps another's out, the decision visible on the delivery and the filter on the destination", async () => {
    const inCampaign = uniqueId('in');
    const otherCampaign = uniqueId('out');
    await click(inCampaign, { campaign_id: '777', country: 'in' });
    await click(otherCampaign, { campaign_id: '778', country: 'IN' });
    const destination = await createDestination(app, { name: 'pixel 777', url: `${receiver.url}/pixel`, event_map: { deposit: 'Purchase' }, filter: { campaign_ids: ['777'], countries: ['in'], min_value: '10' } });
    const shown = await app.request('GET', app.path(`/destinations/${destination.id}`));
    expect(shown.body.filter).toEqual({ campaign_ids: ['777'], countries: ['IN'], min_value: '10' });

    const sent = await deposit(inCampaign);
    const keptOut = await deposit(otherCampaign);
    const tooSmall = await deposit(inCampaign, uniqueId('dep'), '9.50');
    expect(keptOut.body.deliveries).toEqual([expect.objectContaining({ destination_id: destination.id, status: 'skipped' })]);
    expect((await deliveryReaches(app, sent.eventId, ['sent'])).filter).toEqual({ matched: true, reason: null });
    const skipped = await getDelivery(app, keptOut.eventId);
    expect(skipped).toMatchObject({ status: 'skipped', attempt_count: 0, filter: { matched: false, reason: 'campaign_id 778 is not in filter.campaign_ids' } });
    expect(skipped.last_error).toBe('filtered out: campaign_id 778 is not in filter.campaign_ids');
    expect((await getDelivery(app, tooSmall.eventId)).filter).toEqual({ matched: false, reason: 'deposit value 9.50 is below filter.min_value 10' });
    expect(requestsAt('/pixel').map((request) => request.headers['webhook-id'])).toEqual([sent.eventId]);

    const refused = await app.request('PATCH', app.path(`/destinations/${destination.id}`), { filter: { campaign: ['1'] } });
    expect(refused.status).toBe(400);
    expect(String(refused.body.message)).toContain('filter.campaign is not a filter');
  });

  it('never shows the secret part of a template in responses, attempt records, response excerpts, logs or Temporal history', async () => {
    const secret = `sK-${uniqueId('s')}`;
    const uid = uniqueId('sec');
    const path = `/sec-${uniqueId('p')}`;
    // A receiver that echoes the key back in an error must not put it into the stored excerpt either.
    receiver.replyWith({ status: 503, body: `bad key ${secret}` }, 200);
    const destination = await createDestination(app, {
      name: 'secret',
      format: 'postback',
      url_template: `${receiver.url}${path}/{secret.key}?u={uid}&k={secret.key}`,
      template_secrets: { key: secret },
      event_map: { deposit: 'sale' },
    });
    expect(JSON.stringify(destination)).not.toContain(secret);
    const { eventId } = await deposit(uid);
    const delivery = await deliveryReaches(app, eventId, ['sent']);
    receiver.replyWith(200);

    const [arrived] = requestsAt(path);
    expect(new URL(arrived!.path, 'http://x').searchParams.get('k')).toBe(secret);
    expect(delivery.attempts.map((attempt: { request: string }) => attempt.request)).toEqual([
      `GET ${receiver.url}${path}/********?u=${encodeURIComponent(uid)}&k=********`,
      `GET ${receiver.url}${path}/********?u=${encodeURIComponent(uid)}&k=********`,
    ]);
    const shownDestination = await app.request('GET', app.path(`/destinations/${destination.id}`));
    expect(shownDestination.body.template_secrets).toEqual({ key: '********' });
    const everything = [
      JSON.stringify(delivery),
      JSON.stringify(shownDestination.body),
      JSON.stringify((await app.request('GET', app.path('/destinations'))).body),
      JSON.stringify((await app.request('GET', app.path('/deliveries'))).body),
      capturedLogs.join(''),
      JSON.stringify(await app.temporal.workflow.getHandle(`delivery-${eventId}`).fetchHistory()),
    ];
    for (const text of everything) expect(text).not.toContain(secret);
  });
});
