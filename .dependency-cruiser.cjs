/**
 * Which top-level folder may import which (README "Layout"). Enforced by
 * contract/import-boundaries.spec.ts in `npm test`; `npm run lint:imports` prints the same report.
 *
 *   contract   → nothing of ours (workflow-safe: no Node built-ins, only @temporalio/common)
 *   workflows  → contract (no Node built-ins: the workflow sandbox has none)
 *   activities → contract
 *   src        → contract, activities, workflows
 *   dev        → src, contract
 *   portal     → nothing of ours (browser code, bundled by esbuild; it reaches the app over HTTP only)
 *   test, bench → anything
 *
 * With no edge pointing back, no cycle between folders is possible. Type-only imports count too
 * (tsPreCompilationDeps): `import type` from src/ still ties a folder to src/'s internals.
 */
const OURS = ['contract', 'workflows', 'activities', 'src', 'dev', 'test', 'bench', 'portal'];
const folders = (...names) => `^(${names.join('|')})/`;
const except = (...allowed) => folders(...OURS.filter((name) => !allowed.includes(name)));
/** Specs are not bundled into the workflow code; they may use Node and test tooling. */
const SPEC = '\\.spec\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'contract-imports-nothing-of-ours',
      comment: 'contract/ is what workflows, activities and src share; it depends on none of them.',
      severity: 'error',
      from: { path: '^contract/' },
      to: { path: except('contract') },
    },
    {
      name: 'contract-is-workflow-safe',
      comment: 'The workflow bundle loads contract/: no Node built-ins, no npm package but @temporalio/common.',
      severity: 'error',
      from: { path: '^contract/', pathNot: SPEC },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '(^|/)node_modules/@temporalio/common/' },
    },
    {
      name: 'workflows-import-only-the-contract',
      comment: 'Workflow code reaches activities and the app only through contract/.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: except('workflows', 'contract') },
    },
    {
      name: 'workflows-use-no-node-built-ins',
      comment: 'The workflow sandbox is deterministic and has no Node modules.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'activities-import-only-the-contract',
      comment: 'Activities get the store, metrics and HTTP connector as contract/ interfaces that src/ implements.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: except('activities', 'contract') },
    },
    {
      name: 'src-does-not-import-dev-or-tests',
      comment: 'Production code ships without dev/, test/ and bench/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: folders('dev', 'test', 'bench') },
    },
    {
      name: 'portal-imports-nothing-of-ours',
      comment: 'The customer portal runs in the browser and talks to the API over HTTP; no server code may end up in its bundle.',
      severity: 'error',
      from: { path: '^portal/' },
      to: { path: except('portal') },
    },
    {
      name: 'src-does-not-import-the-portal-sources',
      comment: 'The API serves the built bundle (dist/portal), never the browser sources.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: folders('portal') },
    },
    {
      name: 'dev-imports-src-and-contract',
      comment: 'Dev tooling starts the app; it does not reach around it.',
      severity: 'error',
      from: { path: '^dev/' },
      to: { path: except('dev', 'src', 'contract') },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|\\.tools|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
