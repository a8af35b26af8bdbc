import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from './config.js';

/**
 * The key behind every code, captcha and session hash. In production it must come from SECRET
 * (the config refuses to start without it). In development one is generated on first start and
 * kept beside the SQLite file, so codes and sessions survive a restart.
 */
export function resolveSecret(config: Config): string {
  if (config.secret) return config.secret;
  const folder = config.sqlitePath === undefined || config.sqlitePath === ':memory:' ? './data' : dirname(config.sqlitePath);
  const file = join(folder, 'secret');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(folder, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
