import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The build `npm start` makes, made here the same way (only what changed since the last build). */
function build(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * Vitest global setup: the end-to-end and browser tests start `node dist/server.js` and drive the
 * built pages, as production runs them, so build both once before the first test, and again
 * before a watch-mode rerun. With nothing changed this costs a fraction of a second.
 */
export default function buildOnce(project: TestProject): void {
  build();
  project.onTestsRerun(() => build());
}
