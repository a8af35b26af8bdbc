import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'web/src/**/*.test.ts'],
    // Real server processes run the build (node dist/server.js) and serve the built pages: build what changed first.
    globalSetup: ['test/build-once.ts'],
    testTimeout: 30_000,
    // Above the start-up bound of real server processes (test/helpers/server-process.ts).
    hookTimeout: 120_000,
    // Two cores: keep workers few so race tests measure the app, not the scheduler.
    maxWorkers: 2,
    reporters: ['default', './test/reporters/summary-line.ts'],
  },
});
