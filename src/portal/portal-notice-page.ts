import type { PortalLinkOpening } from './portal-links.service.js';

type Refusal = Exclude<PortalLinkOpening['outcome'], 'opened'>;

/** Fixed wording per refusal: nothing from the request is ever written into the page. */
const NOTICES: Record<Refusal, { status: number; title: string; text: string }> = {
  used: {
    status: 410,
    title: 'This portal link was already used',
    text: 'A portal link opens once. Ask for a new link from your XTRACKER dashboard.',
  },
  expired: {
    status: 410,
    title: 'This portal link has expired',
    text: 'Ask for a new link from your XTRACKER dashboard.',
  },
  unknown: {
    status: 404,
    title: 'This portal link is not valid',
    text: 'Check that the whole link was copied, or ask for a new one from your XTRACKER dashboard.',
  },
};

/** The page a refused link shows, and its status. */
export function refusedLinkPage(refusal: Refusal, stylesheet: string | undefined): { status: number; html: string } {
  const notice = NOTICES[refusal];
  const style = stylesheet ? `<link rel="stylesheet" href="/portal/assets/${stylesheet}">` : '';
  return {
    status: notice.status,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${notice.title}</title>${style}</head><body><main class="notice" id="main"><h1>${notice.title}</h1><p>${notice.text}</p></main></body></html>`,
  };
}
