import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Regression for issue 9: `npm start` rebuilt everything on every start (63 s before /healthz).
 * scripts/build.mjs runs in a copy of the checkout, so the suite's own dist/ is left alone.
 */
describe('scripts/build.mjs (what npm start and the test run build first)', () => {
  const copy = mkdtempSync(join(tmpdir(), 'sms-verify-build-'));
  for (const path of ['scripts', 'src', 'package.json', 'package-lock.json']) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  const build = () => {
    const run = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout;
  };

  it('builds when there is no build, and not again while nothing changed', () => {
    expect(build()).toContain('building the server (no build yet)');
    expect(existsSync(join(copy, 'dist', 'server.js'))).toBe(true);
    expect(build()).toBe('');
  });

  it('builds again after a source changed, and drops the output of a deleted source', () => {
    const errors = join(copy, 'src', 'errors.ts');
    const later = new Date(Date.now() + 5_000);
    utimesSync(errors, later, later);
    writeFileSync(join(copy, 'src', 'gone-soon.ts'), 'export const x = 1;\n');
    expect(build()).toContain('building the server (sources changed since the last build)');
    expect(existsSync(join(copy, 'dist', 'gone-soon.js'))).toBe(true);

    rmSync(join(copy, 'src', 'gone-soon.ts'));
    expect(build()).toContain('sources changed');
    expect(existsSync(join(copy, 'dist', 'gone-soon.js'))).toBe(false);
    expect(build()).toBe('');
  });

  it('a build that fails is tried again next time, not taken for current', () => {
    const broken = join(copy, 'src', 'broken.ts');
    writeFileSync(broken, 'export const = ;\n');
    const run = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/broken\.ts/);
    rmSync(broken);
    expect(build()).toContain('building the server');
    expect(readFileSync(join(copy, 'dist', 'server.js'), 'utf8')).toContain('loadConfig');
  });
});
