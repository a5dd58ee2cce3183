/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Functions passed to page.evaluate run in the browser: they see its DOM, typed here.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { projectRoot } from '../../../src/config/project-root.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps trying hosts this machine cannot reach. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
}

export interface PortalContext {
  context: BrowserContext;
  page: Page;
  /** Requests the page tried to make to any other host (none may happen: the portal works offline). */
  foreignRequests: string[];
  /** Console errors, CSP violations among them. */
  consoleErrors: string[];
}

/** A fresh browser profile whose every request to another host (than the app's and `alsoAllowed`) is refused and recorded. */
export async function newPortalContext(browser: Browser, baseUrl: string, alsoAllowed: string[] = []): Promise<PortalContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if ([baseUrl, ...alsoAllowed].some((origin) => url.startsWith(origin))) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return { context, page, foreignRequests, consoleErrors };
}

/**
 * A screenshot of a main view into test-results/portal on every run, and into docs/portal (the
 * README's pictures) when PORTAL_SCREENSHOTS=docs.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const root = projectRoot();
  const folders = [join(root, 'test-results', 'portal'), ...(process.env.PORTAL_SCREENSHOTS === 'docs' ? [join(root, 'docs', 'portal')] : [])];
  // No focus ring left over from a previous step in the pictures.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (const folder of folders) {
    mkdirSync(folder, { recursive: true });
    await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true });
  }
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it stands: no serious or critical violation. */
export async function expectAccessible(page: Page, view: string): Promise<void> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const results = await (globalThis as unknown as { axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe.run(document);
    return results.violations.map((violation) => ({ id: violation.id, impact: violation.impact, targets: violation.nodes.map((node) => JSON.stringify(node.target)) }));
  });
  expect(violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'), view).toEqual([]);
}

/**
 * Tabs through the whole page and checks every visible link, button and field got the focus:
 * nothing is reachable by mouse alone.
 */
export async function expectKeyboardReachable(page: Page, view: string): Promise<void> {
  const controls = await page.evaluate(() => {
    const elements = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]')].filter(
      (element) => element.offsetParent !== null && !(element as HTMLButtonElement).disabled,
    );
    elements.forEach((element, index) => element.setAttribute('data-control', String(index)));
    // Tabbing starts from the top of the page, wherever the last view left the focus.
    (document.activeElement as HTMLElement | null)?.blur();
    window.getSelection()?.collapse(document.body, 0);
    return elements.length;
  });
  const reached = new Set<string>();
  // Twice round at most: past the last control the focus visits the browser's own UI and comes back.
  for (let press = 0; press < 2 * controls + 4 && reached.size < controls; press += 1) {
    await page.keyboard.press('Tab');
    const marker = await page.evaluate(() => document.activeElement?.getAttribute('data-control') ?? null);
    if (marker !== null) reached.add(marker);
  }
  expect(reached.size, `${view}: controls reached by Tab`).toBe(controls);
}
