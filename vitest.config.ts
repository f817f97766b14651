import { defineConfig } from 'vitest/config';

/** What every project of the run shares. */
const common = {
  // Child processes, not threads: dawn.node and forked workers behave like they do in production.
  pool: 'forks',
  testTimeout: 30_000,
  hookTimeout: 60_000,
} as const;

/**
 * One vitest run for the whole repository, so `npm test` ends with a single summary.
 * Tests import the packages' built `dist/` through their `exports` maps (the same code users get), so the
 * root `test` script builds first.
 */
export default defineConfig({
  test: {
    // A real redis-server for the whole run; tests get its URL through `inject('redisUrl')`. It stays at the root,
    // not in the projects: the projects see the root's provided context, and one server serves them all.
    globalSetup: ['./packages/testing/dist/global-setup.js'],
    reporters: ['default'],
    projects: [
      {
        test: {
          ...common,
          name: 'main',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/chaos/**'],
          // `*.test-d.ts` files are the type tests. vitest does not report type errors in ordinary test files, so
          // `npm test` runs `tsc -p tsconfig.typecheck.json` over every test file first (after the build it needs).
          typecheck: {
            enabled: true,
            include: ['packages/*/test/**/*.test-d.ts'],
            tsconfig: './tsconfig.typecheck.json',
          },
        },
      },
      {
        test: {
          ...common,
          // The chaos suite (docs/reliability.md) kills workers, Redis and the network with 1 to 2 s leases: it runs
          // after every other file (a later group) and one file at a time, so it neither starves the rest of the
          // suite on a small machine nor lapses its own leases by accident.
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
