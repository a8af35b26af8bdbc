import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countFailures } from './summary-line.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/vitest.config.ts', import.meta.url));

/** Regression for issue 9: `npm test` exited 1 while its closing line said `0 failed`. */
describe('the closing summary line', () => {
  it('counts a suite that fails in beforeAll or afterAll, and a file that fails to import, as failed', () => {
    // A real vitest run over scratch files kept outside the suite's include globs.
    const run = spawnSync(process.execPath, [VITEST, 'run', '--config', FIXTURES], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(1);
    const line = run.stdout.trim().split('\n').at(-1);
    // beforeAll: its two tests are skipped and the suite fails; afterAll: its test passed, the suite fails; import: the file fails.
    expect(line).toBe('tests: 2 passed, 3 failed, 2 skipped');
  }, 120_000);

  it('never says 0 failed for a run that failed', () => {
    expect(countFailures([], [], 'failed')).toBe(1);
    expect(countFailures([], [{ message: 'unhandled rejection' }], 'failed')).toBe(1);
    expect(countFailures([], [], 'passed')).toBe(0);
  });
});
