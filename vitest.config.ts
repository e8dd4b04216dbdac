import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One directory per run for every temporary file, removed at the end; one directory per run
    // where the Buildbot 4.3 lab is unpacked (test/support/lab.ts).
    globalSetup: ['test/support/tmp-global-setup.ts', 'test/support/lab4/global-setup.ts'],
    // Integration tests share one lab master per file; files run one at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
