import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons are safest in forked processes, not worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ if stale: child processes in the tests run the built package.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
