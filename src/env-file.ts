import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** What reading a `.env` file added to the environment. */
export interface EnvFileResult {
  /** The environment to configure from: the process's own variables over the file's. */
  readonly environment: Record<string, string | undefined>;
  /** Names (never values) of the variables that came from the file; empty without a file. */
  readonly fromFile: readonly string[];
}

/**
 * Lays the variables of a `.env` file (dotenv syntax, as Node's `util.parseEnv` reads it) under
 * `environment`. A variable already in the environment wins, even when empty, so a process
 * manager or `FOO=bar npm start` overrides the file. A missing file is not an error: the file is
 * optional. An unreadable one is, since silently ignoring a file someone wrote is worse.
 *
 * @example
 * const { environment } = withEnvFile(process.env, '.env');
 * const config = loadConfig(environment);
 */
export function withEnvFile(environment: Record<string, string | undefined>, path: string): EnvFileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { environment, fromFile: [] };
    throw err;
  }
  const file = parseEnv(text);
  const fromFile = Object.keys(file).filter((name) => environment[name] === undefined);
  return { environment: { ...file, ...environment }, fromFile };
}
