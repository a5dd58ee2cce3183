import helmet from 'helmet';
import type { PortalConfig } from '../config/app-config.js';
import { isFramedByOtherOrigins } from './portal-cookie.js';

/** The path prefix the portal's headers apply to (its pages, assets and link exchange). */
export const PORTAL_PATH_PREFIX = '/portal';

/**
 * Helmet for /portal: a CSP allowing only the portal's own files (no inline script or style, no
 * other host: the page works offline and nothing can be injected from elsewhere), and
 * `frame-ancestors` from PORTAL_FRAME_ANCESTORS ('none' unless configured). X-Frame-Options, which
 * cannot name other origins, says the same where it can and is left out where it cannot.
 */
export function portalSecurityHeaders(config: PortalConfig): ReturnType<typeof helmet> {
  const ancestors = config.frameAncestors;
  const xFrameOptions = isFramedByOtherOrigins(config) ? false : { action: ancestors.includes("'self'") ? ('sameorigin' as const) : ('deny' as const) };
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ancestors,
      },
    },
    xFrameOptions,
  });
}
