import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * How many failures the closing line reports: every failed test, plus every suite or file that
 * failed on its own (a beforeAll or afterAll that threw, a file that could not be imported),
 * plus every error outside a test. A beforeAll failure leaves its tests "skipped", so counting
 * tests alone would say `0 failed` for a run that exits 1.
 */
export function countFailures(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: TestRunEndReason): number {
  let failed = unhandledErrors.length;
  for (const module of testModules) {
    let inModule = [...module.children.allTests('failed')].length;
    for (const owner of [module, ...module.children.allSuites()]) if (owner.errors().length > 0) inModule++;
    // A file can fail with neither a failed test nor an error of its own (a worker that died).
    failed += module.state() === 'failed' ? Math.max(inModule, 1) : inModule;
  }
  // Whatever made the run fail, the line must not say the run had no failures.
  return reason === 'failed' ? Math.max(failed, 1) : failed;
}

/**
 * Ends the run with one plain line, "tests: N passed, N failed, N skipped", which CI reads
 * whatever runner printed the rest.
 */
export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    let passed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state !== 'failed') skipped++;
      }
    }
    const failed = countFailures(testModules, unhandledErrors, reason);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
