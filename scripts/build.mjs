#!/usr/bin/env node
// Builds the server (tsc into dist/) and the pages (vite into web/dist/) when their sources
// changed since the last build, or when there is no build. `npm start` runs it before starting
// and the test run (test/build-once.ts) before its first test, so a restart with nothing
// changed starts at once and every test process runs the code that production runs.
//
//   node scripts/build.mjs [server] [pages]     (both when none is named)
//
// Plain JavaScript on purpose: it runs before every start, and needs no compiler to run.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bin = (path) => join(ROOT, 'node_modules', path);

/**
 * What each build reads, what it writes, and how it is made. The pages import only types from
 * src/, so a server change does not rebuild them; a dependency change (package-lock.json) does.
 */
const TARGETS = {
  server: {
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'],
    outDir: 'dist',
    entry: 'dist/server.js',
    // tsc leaves the output of deleted sources behind; start from an empty dist/.
    clean: true,
    command: [bin('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  },
  pages: {
    inputs: ['web', 'package.json', 'package-lock.json'],
    outDir: 'web/dist',
    entry: 'web/dist/index.html',
    clean: false, // vite empties its outDir itself
    command: [bin('vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'],
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

/** Builds `name` unless its last build was made from exactly the sources there are now. */
function buildIfStale(name) {
  const target = TARGETS[name];
  const current = fingerprint(target);
  const stamp = stampOf(target);
  const built = existsSync(join(ROOT, target.entry)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === current;
  if (built) return false;
  process.stdout.write(`building the ${name} (${existsSync(join(ROOT, target.entry)) ? 'sources changed since the last build' : 'no build yet'})\n`);
  if (target.clean) rmSync(join(ROOT, target.outDir), { recursive: true, force: true });
  execFileSync(process.execPath, target.command, { cwd: ROOT, stdio: 'inherit' });
  // Written only after a build that succeeded: a failed one is tried again next time.
  writeFileSync(stamp, current);
  return true;
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length > 0) {
  process.stderr.write(`unknown build target ${unknown.join(', ')}; use ${Object.keys(TARGETS).join(' and/or ')}\n`);
  process.exit(2);
}
try {
  for (const name of names.length > 0 ? names : Object.keys(TARGETS)) buildIfStale(name);
} catch {
  // The compiler has printed why.
  process.exit(1);
}
