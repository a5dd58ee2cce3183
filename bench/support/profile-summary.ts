import { readFileSync } from 'node:fs';

/**
 * Summarises a .cpuprofile written by `npm run bench -- --profile`: self time by package (or
 * project folder) and the heaviest functions.
 * Usage: node dist/bench/support/profile-summary.js <file.cpuprofile> [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native/builtin)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node core';
  const project = /\/(dist\/)?(src\/[^/]+|activities|workflows|bench\/[^/]+)/.exec(url);
  return project ? project[2]! : url;
}

const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
/** Native and Node-core frames (writev, timers…) are charged to the nearest package or project caller. */
function owner(id: number): ProfileNode {
  let node = byId.get(id)!;
  while ((node.callFrame.url === '' || node.callFrame.url.startsWith('node:')) && parent.has(node.id) && !node.callFrame.functionName.startsWith('(')) node = byId.get(parent.get(node.id)!)!;
  return node;
}
const byOwner = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = owner(id);
  const key = area(node.callFrame.url, node.callFrame.functionName);
  byOwner.set(key, (byOwner.get(key) ?? 0) + us);
}
const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = area(url, functionName);
  byArea.set(key, (byArea.get(key) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, '')}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}
const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
console.log('\nself time by package / folder:');
for (const [key, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${key}`);
console.log('\nself time by package / folder, native frames charged to their JavaScript caller:');
for (const [key, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${key}`);
console.log('\nheaviest functions (self time):');
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${key}`);
