import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB = join(ROOT, 'web');
const BUILT = join(WEB, 'dist', 'index.html');

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    stat.mtimeMs,
    ...readdirSync(path)
      .filter((name) => name !== 'dist' && name !== 'node_modules')
      .map((name) => newestChange(join(path, name))),
  );
}

/**
 * Vitest global setup: the browser tests drive the built pages that the server serves, so build
 * them when web/dist is missing or older than any file under web/. Unit tests do not need it;
 * the check costs a few milliseconds when nothing changed.
 */
export default function buildPagesIfStale(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestChange(WEB)) return;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  process.stdout.write('building the web pages for the browser tests (vite build web)\n');
  execFileSync(process.execPath, [vite, 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}
