#!/usr/bin/env node
// Builds the server (src/ into dist/) and the pages (web/ into web/dist/) when their sources
// changed since the last build, or when there is no build. `npm start` runs it before starting
// and the test run (test/build-once.ts) before its first test, so a restart with nothing
// changed starts at once and every test process runs the code that production runs.
//
//   node scripts/build.mjs [server] [pages]     (both when none is named)
//
// Plain JavaScript on purpose: it runs before every start, and needs no compiler to run.
//
// The server is transpiled file by file with esbuild (under a second; tsc took 14 s idle and
// close to a minute on a busy machine). Types are checked by `npm run typecheck`, which
// `npm test` runs first; a build does not wait for them, as `npm run dev` does not.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every module of src/ to its own file in dist/, as Node runs it (ES modules, source maps for stack traces). */
function buildServer() {
  const sources = [];
  listFiles(join(ROOT, 'src'), sources);
  const entryPoints = sources.map((line) => line.split('\0')[0]).filter((path) => path.endsWith('.ts') && !path.endsWith('.test.ts'));
  // Output of deleted sources must not linger: start from an empty dist/.
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  buildSync({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: 'dist',
    outbase: 'src',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}

/**
 * What each build reads, what it writes, and how it is made. The pages import only types from
 * src/, so a server change does not rebuild them; a dependency change (package-lock.json) does.
 */
const TARGETS = {
  server: {
    inputs: ['src', 'package.json', 'package-lock.json'],
    outDir: 'dist',
    entry: 'dist/server.js',
    build: buildServer,
  },
  pages: {
    inputs: ['web', 'package.json', 'package-lock.json'],
    outDir: 'web/dist',
    entry: 'web/dist/index.html',
    // vite empties web/dist itself.
    build: () => execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' }),
  },
};

/** Generated or installed trees inside the inputs that are not sources. */
const NOT_SOURCES = new Set(['dist', 'node_modules']);

function listFiles(path, files) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) {
    files.push(`${relative(ROOT, path)}\0${stat.size}\0${stat.mtimeMs}`);
    return;
  }
  for (const name of readdirSync(path).sort()) if (!NOT_SOURCES.has(name)) listFiles(join(path, name), files);
}

/**
 * A digest of every input's path, size and modification time: an edit, a new file, a deleted
 * file or a checkout changes it. Reading metadata only keeps the check to a few milliseconds.
 */
function fingerprint(target) {
  const files = [];
  for (const input of target.inputs) listFiles(join(ROOT, input), files);
  return createHash('sha256').update(files.join('\n')).digest('hex');
}

const stampOf = (target) => join(ROOT, target.outDir, '.build-fingerprint');

const isRunning = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/**
 * Runs `fn` while holding a lock file, so a test run and `npm start` in the same checkout do not
 * build into one directory at once. A lock left by a process that died is taken over.
 */
function whileLocked(name, fn) {
  // Named after the checkout too: worktrees may share one node_modules.
  const checkout = createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
  const lock = join(ROOT, 'node_modules', '.cache', 'sms-verify', `build-${name}-${checkout}.lock`);
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (holder > 0 && !isRunning(holder)) rmSync(lock, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Builds `name` unless its last build was made from exactly the sources there are now. */
function buildIfStale(name) {
  const target = TARGETS[name];
  const stamp = stampOf(target);
  const current = fingerprint(target);
  const isCurrent = () => existsSync(join(ROOT, target.entry)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === current;
  if (isCurrent()) return;
  // Checked again under the lock: another process may have just built it.
  whileLocked(name, () => {
    if (!isCurrent()) build(name, target, current);
  });
}

function build(name, target, current) {
  process.stdout.write(`building the ${name} (${existsSync(join(ROOT, target.entry)) ? 'sources changed since the last build' : 'no build yet'})\n`);
  target.build();
  // Written only after a build that succeeded: a failed one is tried again next time.
  writeFileSync(stampOf(target), current);
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length > 0) {
  process.stderr.write(`unknown build target ${unknown.join(', ')}; use ${Object.keys(TARGETS).join(' and/or ')}\n`);
  process.exit(2);
}
try {
  for (const name of names.length > 0 ? names : Object.keys(TARGETS)) buildIfStale(name);
} catch (err) {
  // esbuild and vite print what is wrong themselves; anything else is shown here.
  if (!(err && typeof err === 'object' && 'errors' in err) && !(err && typeof err === 'object' && 'status' in err)) console.error(err);
  process.exit(1);
}
