import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/config/project-root.js';
import { CHROMIUM_PATH } from './browser.js';

/** Once per run: the portal bundle as `npm run build` makes it, and a check that Chromium is there. */
export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`);
  execFileSync(process.execPath, [join(projectRoot(), 'portal', 'build.mjs')], { stdio: 'inherit' });
}
