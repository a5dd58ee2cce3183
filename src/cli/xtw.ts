import { runXtw } from './xtw-commands.js';

/** Entry point of `npm run xtw -- <command>` (dist/src/cli/xtw.js); the commands live in xtw-commands.ts. */
process.exitCode = await runXtw(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
