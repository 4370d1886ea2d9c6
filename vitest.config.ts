import { defineConfig } from 'vitest/config';

// Tests spawn real daemons and plugin processes; on a 2-core machine a couple of
// files at a time keeps timing-sensitive tests honest without starving them.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
