import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { workflowSourcePath } from './workflow-code.js';

/**
 * `npm run build` step: pre-bundles the workflow code so workers start without running
 * webpack (see workflow-code.ts, which prefers this bundle when it exists).
 */
const { code } = await bundleWorkflowCode({ workflowsPath: workflowSourcePath() });
const target = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));
await writeFile(target, code);
console.log(`workflow bundle written to ${target} (${Math.round(code.length / 1024)} KiB)`);
