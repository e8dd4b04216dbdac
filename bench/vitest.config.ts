import { defineConfig } from 'vitest/config';

/** `npm run bench`: benchmarks that drive the real lab master and print their figures. */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
