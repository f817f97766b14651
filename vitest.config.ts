import { defineConfig } from 'vitest/config';

/**
 * One vitest run for the whole repository, so `npm test` ends with a single summary.
 * Tests import the packages' built `dist/` through their `exports` maps (the same code users get), so the
 * root `test` script builds first.
 */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'test/**/*.test.ts'],
    // `*.test-d.ts` files are the type tests. vitest does not report type errors in ordinary test files, so
    // `npm test` runs `tsc -p tsconfig.typecheck.json` over every test file first (after the build it needs).
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typecheck.json',
    },
    // A real redis-server for the whole run; tests get its URL through `inject('redisUrl')`.
    globalSetup: ['./packages/testing/dist/global-setup.js'],
    // Child processes, not threads: dawn.node and forked workers behave like they do in production.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
