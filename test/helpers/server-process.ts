import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * How long a start may take before the test gives up. A start from the build listens in about a
 * second; this bound is for a machine whose cores are busy with something else, not a deadline
 * the test is expected to get near. The suites' hookTimeout (vitest.config.ts) is longer still.
 */
const STARTUP_BOUND_MS = 90_000;

/**
 * Timeout for a test that starts server processes inside its body (not in a hook): each start is
 * bounded by STARTUP_BOUND_MS, and the work after it runs on the same busy cores.
 */
export const PROCESS_TEST_TIMEOUT_MS = 3 * 60_000;

/** The build `npm start` runs; test/build-once.ts makes it before the first test. */
const ENTRY = join(ROOT, 'dist', 'server.js');

export interface StartOptions {
  /** Working directory of the process (where it looks for `.env` and relative paths). @default the repository */
  cwd?: string;
}

/**
 * Starts the built server (`node dist/server.js`) as its own process, as `npm start` does, and
 * waits until /healthz answers or the process exits.
 */
export async function startServerProcess(env: Record<string, string>, { cwd = ROOT }: StartOptions = {}): Promise<ServerProcess> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run "node scripts/build.mjs" (vitest's global setup does)`);
  const port = await freePort();
  const child = spawn(process.execPath, [ENTRY], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    }),
  );

  const startedAt = Date.now();
  for (;;) {
    if (exitCode !== undefined) {
      await new Promise((r) => setImmediate(r)); // let the last output arrive
      throw new Error(`server exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - startedAt > STARTUP_BOUND_MS) {
      child.kill('SIGKILL');
      throw new Error(`server neither answered /healthz nor exited within ${STARTUP_BOUND_MS / 1000} s:\n${output}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
    },
  };
}
