import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons are safest in forked processes, not worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
