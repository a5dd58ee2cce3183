import { Injectable, Logger } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { projectRoot } from '../config/project-root.js';

export interface PortalAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The portal's built files (portal/build.mjs → dist/portal), read once at boot: a handful of small
 * files, served from memory without touching the disk per request. Asset names carry a content
 * hash, so they are cached for good and a new build is picked up through the page alone.
 */
@Injectable()
export class PortalAssets {
  private readonly logger = new Logger(PortalAssets.name);
  /** Undefined when the portal was not built (`npm run build` builds it). */
  readonly page: Buffer | undefined;
  /** The stylesheet's hashed name, for the pages the server renders itself (a refused link). */
  readonly stylesheet: string | undefined;
  private readonly assets = new Map<string, PortalAsset>();

  constructor() {
    const folder = join(projectRoot(), 'dist', 'portal');
    const pagePath = join(folder, 'index.html');
    if (!existsSync(pagePath)) {
      this.logger.warn(`the customer portal is not built (${pagePath} missing): run npm run build`);
      return;
    }
    this.page = readFileSync(pagePath);
    const assetFolder = join(folder, 'assets');
    for (const name of readdirSync(assetFolder)) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) this.assets.set(name, { body: readFileSync(join(assetFolder, name)), contentType });
      if (extname(name) === '.css') this.stylesheet = name;
    }
  }

  /** Only names the build wrote: the lookup is a map, never a path, so nothing outside the folder is reachable. */
  asset(name: string): PortalAsset | undefined {
    return this.assets.get(name);
  }
}
