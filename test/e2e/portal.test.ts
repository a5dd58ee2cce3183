/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Functions passed to page.evaluate run in the browser: they see its DOM, typed here.
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/common/free-port.js';
import { createAccount, createDestination, deliveryReaches, uniqueId } from '../support/fixtures.js';
import { Receiver } from '../support/receiver.js';
import { startTestApp, useTestApp, type TestApp } from '../support/test-app.js';
import { expectAccessible, expectKeyboardReachable, launchBrowser, newPortalContext, screenshot, type PortalContext } from './support/browser.js';

const VISIBLE_MS = 15_000;

async function mintLink(app: TestApp, readOnly: boolean): Promise<string> {
  const response = await app.request('POST', app.path('/portal-links'), { expires_in: 3600, read_only: readOnly });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.url;
}

/** Ingests one deposit in the account and returns its delivery's event_id. */
async function ingest(app: TestApp, accountId = app.accountId): Promise<string> {
  const response = await app.request('POST', `/v1/accounts/${accountId}/events`, {
    id: uniqueId('evt'),
    canonical: 'deposit',
    uid: 'u-portal',
    occurred_at_ms: Date.now(),
    data: { value: '25.00', currency: 'USD' },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.deliveries[0].event_id;
}

async function openPortal(browser: Browser, app: TestApp, readOnly: boolean): Promise<PortalContext> {
  const portal = await newPortalContext(browser, app.baseUrl);
  await portal.page.goto(await mintLink(app, readOnly));
  await portal.page.getByRole('heading', { name: 'Destinations' }).waitFor({ timeout: VISIBLE_MS });
  return portal;
}

async function goTo(page: Page, hash: string): Promise<void> {
  await page.evaluate((target) => {
    location.hash = target;
  }, hash);
}

describe('the customer portal in Chromium', () => {
  const app = useTestApp();
  let browser: Browser;
  let receiver: Receiver;
  let destinationId: string;
  let failedEventId: string;
  const contexts: PortalContext[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    receiver = await Receiver.start();
    // Two 503s use up both attempts (failed); the retry's request gets the 200.
    receiver.replyWith(503, 503, 200);
    destinationId = (
      await createDestination(app, {
        name: 'Meta CAPI relay',
        url: `${receiver.url}/xt`,
        headers: { 'X-Shared-Secret': 's3cr3t' },
        event_map: { deposit: 'Purchase' },
        retry_policy: { initial_interval_ms: 200, max_attempts: 2 },
      })
    ).id;
    failedEventId = await ingest(app);
    await deliveryReaches(app, failedEventId, ['failed']);
  });

  afterAll(async () => {
    for (const { context } of contexts) await context.close();
    await browser?.close();
    await receiver?.close();
  });

  const open = async (readOnly: boolean) => {
    const portal = await openPortal(browser, app, readOnly);
    contexts.push(portal);
    return portal;
  };

  it('opens a link, shows the failed delivery with its attempts, and retries it until it is sent', async () => {
    const { page, foreignRequests, consoleErrors } = await open(false);
    expect(new URL(page.url()).pathname).toBe('/portal');
    await page.getByRole('link', { name: 'Meta CAPI relay' }).waitFor();
    await screenshot(page, 'destinations');

    await page.getByRole('link', { name: 'Meta CAPI relay' }).click();
    await page.getByText('Success rate (7 days)').waitFor();
    await page.getByRole('img', { name: /Deliveries per hour/ }).waitFor();
    await expect.poll(() => page.getByText(/^1 failed$|Failed: 1/).count(), { timeout: VISIBLE_MS }).toBeGreaterThan(0);
    await screenshot(page, 'destination-health');

    await goTo(page, `#/deliveries?destination_id=${destinationId}&status=failed`);
    await page.getByRole('link', { name: `${failedEventId.slice(0, 12)}…` }).click();
    await page.getByRole('heading', { name: /Delivery/ }).waitFor();
    const attempts = page.locator('table.attempts tbody tr');
    await expect.poll(() => attempts.count(), { timeout: VISIBLE_MS }).toBe(2);
    expect(await attempts.first().innerText()).toContain('503');
    expect(await page.locator('.badge').first().innerText()).toBe('failed');
    await screenshot(page, 'delivery-failed');

    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => page.locator('.badge').first().innerText(), { timeout: 30_000 }).toBe('sent');
    await expect.poll(() => attempts.count()).toBe(3);
    expect(receiver.requests.at(-1)!.headers['webhook-id']).toBe(failedEventId);
    await screenshot(page, 'delivery-sent');

    expect(foreignRequests).toEqual([]);
    expect(consoleErrors.filter((text) => text.includes('Content Security Policy'))).toEqual([]);
  });

  it('shows no write controls to a read-only link, and the API refuses a forged write', async () => {
    const { page } = await open(true);
    await expect.poll(() => page.getByText('read-only').count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'New destination' }).count()).toBe(0);
    await goTo(page, `#/destinations/${destinationId}`);
    await page.getByText('Success rate (7 days)').waitFor();
    expect(await page.getByRole('group', { name: 'Destination actions' }).count()).toBe(0);
    await goTo(page, `#/deliveries/${failedEventId}`);
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    // What a script in the page could do: the cookie goes along, and it can read the CSRF token.
    const forged = await page.evaluate(async ({ path }) => {
      const session = (await (await fetch('/portal/api/session')).json()) as { csrf_token: string };
      const response = await fetch(path, { method: 'POST', headers: { 'x-csrf-token': session.csrf_token } });
      return response.status;
    }, { path: app.path(`/destinations/${destinationId}/pause`) });
    expect(forged).toBe(403);
    expect((await app.request('GET', app.path(`/destinations/${destinationId}`))).body.paused).toBe(false);
  });

  it('refuses a second opening of a used link', async () => {
    const url = await mintLink(app, false);
    const first = await newPortalContext(browser, app.baseUrl);
    contexts.push(first);
    await first.page.goto(url);
    await first.page.getByRole('heading', { name: 'Destinations' }).waitFor({ timeout: VISIBLE_MS });
    const second = await newPortalContext(browser, app.baseUrl);
    contexts.push(second);
    const response = await second.page.goto(url);
    expect(response?.status()).toBe(410);
    await second.page.getByRole('heading', { name: 'This portal link was already used' }).waitFor();
    await screenshot(second.page, 'link-used');
  });

  it('refuses a session once it has expired', async () => {
    const { page } = await open(false);
    await app.dataSource.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1`, [app.accountId]);
    await page.reload();
    await page.getByRole('heading', { name: 'Your portal session has ended' }).waitFor({ timeout: VISIBLE_MS });
  });

  it("shows not found for another account's delivery id typed into the URL", async () => {
    const other = await createAccount(app);
    const receiverOfOther = await Receiver.start();
    try {
      await createDestination(app, { url: `${receiverOfOther.url}/xt`, event_map: { deposit: 'Purchase' } }, { accountId: other });
      const foreignEventId = await ingest(app, other);
      const { page } = await open(false);
      await goTo(page, `#/deliveries/${foreignEventId}`);
      await page.getByText(`Delivery not found: this account has no delivery ${foreignEventId}.`).waitFor({ timeout: VISIBLE_MS });
    } finally {
      await receiverOfOther.close();
    }
  });

  it('creates a destination, edits it, and sends it a test event, all from the page', async () => {
    const second = await Receiver.start();
    try {
      const { page } = await open(false);
      await page.getByRole('link', { name: 'New destination' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Second receiver');
      await page.getByLabel('URL', { exact: true }).fill(`${second.url}/hook`);
      await page.getByLabel('deposit is sent as').fill('Purchase');
      await page.getByRole('button', { name: 'Add header' }).click();
      await page.getByLabel('Header', { exact: true }).fill('X-Token');
      await page.getByLabel('Value', { exact: true }).fill('t0ken');
      await page.getByLabel('Requests per second (empty = account default)').fill('5');
      await page.getByRole('button', { name: 'Create destination' }).click();
      await page.getByRole('heading', { name: 'Destination created' }).waitFor({ timeout: VISIBLE_MS });
      expect(await page.getByLabel('Signing secret', { exact: true }).inputValue()).toMatch(/^whsec_/);
      await page.getByRole('link', { name: 'Open Second receiver' }).click();
      await page.getByText('5 per second').waitFor({ timeout: VISIBLE_MS });
      expect(await page.getByText('X-Token: ********').count()).toBe(1);

      await page.getByRole('link', { name: 'Edit' }).click();
      await page.getByLabel('Attempts in flight at once (empty = default)').fill('3');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Max in flight').waitFor({ timeout: VISIBLE_MS });
      await expect.poll(() => page.locator('.facts dd', { hasText: /^3$/ }).count()).toBe(1);

      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByRole('link', { name: 'Open the test delivery' }).click();
      await expect.poll(() => page.locator('.badge').first().innerText(), { timeout: 30_000 }).toBe('sent');
      expect(second.requests).toHaveLength(1);
      expect(second.requests[0]!.headers['x-token']).toBe('t0ken');
    } finally {
      await second.close();
    }
  });

  it('passes an accessibility smoke check: no serious axe violation, every control reachable by keyboard', async () => {
    const { page } = await open(false);
    const views: Array<[string, string, string]> = [
      ['destinations', '#/destinations', 'Meta CAPI relay'],
      ['destination', `#/destinations/${destinationId}`, 'Success rate (7 days)'],
      ['deliveries', '#/deliveries', 'Created from'],
      ['delivery', `#/deliveries/${failedEventId}`, 'Attempts'],
      ['new destination', '#/destinations/new', 'Events sent (leave empty to not send)'],
      ['verify', '#/verify', 'Verify signatures'],
    ];
    for (const [view, hash, marker] of views) {
      await goTo(page, hash);
      await page.getByText(marker).first().waitFor({ timeout: VISIBLE_MS });
      await expectAccessible(page, view);
      await expectKeyboardReachable(page, view);
      if (view === 'new destination') await screenshot(page, 'destination-form');
      if (view === 'verify') await screenshot(page, 'verify');
    }
  });
});

describe('the customer portal embedded in another site', () => {
  let host: Server;
  let hostOrigin: string;
  let stranger: Server;
  let strangerOrigin: string;
  let app: TestApp;
  let browser: Browser;
  let frameSrc = '';

  beforeAll(async () => {
    // The embedding dashboard is another site (localhost is not 127.0.0.1), as XTRACKER's dashboard is.
    const hostPort = await findFreePort();
    hostOrigin = `http://localhost:${hostPort}`;
    app = await startTestApp({ env: { PORTAL_FRAME_ANCESTORS: hostOrigin }, worker: false });
    browser = await launchBrowser();
    const framing = () =>
      createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(`<!doctype html><title>Dashboard</title><iframe title="Webhooks portal" width="1200" height="700" src="${frameSrc}"></iframe>`);
      });
    host = framing();
    await new Promise<void>((resolve) => host.listen(hostPort, '127.0.0.1', resolve));
    // Another origin (same host, another port) that PORTAL_FRAME_ANCESTORS does not name.
    const strangerPort = await findFreePort();
    strangerOrigin = `http://localhost:${strangerPort}`;
    stranger = framing();
    await new Promise<void>((resolve) => stranger.listen(strangerPort, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => host?.close(resolve));
    await new Promise((resolve) => stranger?.close(resolve));
    await app?.close();
  });

  it('opens in an iframe of an allowed site, with its session and its theme colour', async () => {
    frameSrc = `${await mintLink(app, true)}&theme=0f766e`;
    const portal = await newPortalContext(browser, app.baseUrl, [hostOrigin]);
    try {
      await portal.page.goto(`${hostOrigin}/`);
      const frame = portal.page.frameLocator('iframe');
      await frame.getByRole('heading', { name: 'Destinations' }).waitFor({ timeout: VISIBLE_MS });
      const accent = await frame.locator('nav a[aria-current="page"]').evaluate((link) => getComputedStyle(link).borderBottomColor);
      expect(accent).toBe('rgb(15, 118, 110)');
      await screenshot(portal.page, 'embedded');
    } finally {
      await portal.context.close();
    }
  });

  it('refuses to be framed by a site PORTAL_FRAME_ANCESTORS does not name', async () => {
    frameSrc = `${app.baseUrl}/portal`;
    const portal = await newPortalContext(browser, app.baseUrl, [strangerOrigin]);
    try {
      await portal.page.goto(`${strangerOrigin}/`);
      await expect.poll(() => portal.consoleErrors.some((text) => text.includes('frame-ancestors')), { timeout: VISIBLE_MS }).toBe(true);
      expect(await portal.page.frameLocator('iframe').getByRole('heading').count()).toBe(0);
    } finally {
      await portal.context.close();
    }
  });
});
