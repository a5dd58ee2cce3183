// `npm run build` step: bundles the customer portal (Preact + htm, no JSX, no transpiling beyond
// minification) into dist/portal — one script, one stylesheet, both with a content hash in their
// name, and the page that names them. No CDN, no font: everything the page needs is served by the API.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'portal');
await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src', 'main.js'), join(here, 'src', 'styles.css')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const script = outputs.find((file) => file.endsWith('.js'));
const stylesheet = outputs.find((file) => file.endsWith('.css'));
const page = (await readFile(join(here, 'index.html'), 'utf8')).replace('__JS__', script).replace('__CSS__', stylesheet);
await writeFile(join(out, 'index.html'), page);
const sizes = Object.entries(result.metafile.outputs).map(([file, { bytes }]) => `${basename(file)} ${(bytes / 1024).toFixed(1)} KiB`);
console.log(`portal built into ${out}: ${sizes.join(', ')}`);
