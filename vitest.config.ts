import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC instead of esbuild: Nest's dependency injection needs emitted decorator metadata.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    pool: 'forks',
    // Two cores: integration files each run an API, a worker and receivers.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.spec.ts', 'contract/**/*.spec.ts', 'activities/**/*.spec.ts', 'dev/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // The fault suite has its own project: it builds and spawns whole processes (`npm run test:faults`).
          // The browser tests too (`npm run test:e2e`): they need Chromium and a built portal.
          exclude: [...configDefaults.exclude, 'test/faults/**', 'test/e2e/**'],
          // A real PostgreSQL database and a real Temporal dev server for the whole run.
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // The suite's PostgreSQL and Temporal, plus a freshly built portal bundle and Chromium.
          globalSetup: ['test/support/global-setup.ts', 'test/e2e/support/global-setup.ts'],
          // One browser at a time on a 2-core machine.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // Builds dist when stale; each scenario runs the built API, worker and a Temporal dev server.
          globalSetup: ['test/faults/support/global-setup.ts'],
          // One scenario at a time: each one kills and restarts processes and measures recovery.
          fileParallelism: false,
          // Ceilings for a busy 2-core machine, not expectations: the whole suite takes a few minutes.
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
