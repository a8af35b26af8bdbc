import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { sqliteCaptchaStore, sqliteCodeStore, sqliteHealthCheck } from './sqlite-store.js';
import type { CaptchaStore, CodeStore, HealthCheck } from './types.js';

/** Where the short-lived verification state lives, chosen from the config. */
export interface StateStores {
  readonly codes: CodeStore;
  readonly captchas: CaptchaStore;
  /** Dependencies /readyz should ping. */
  readonly checks: readonly HealthCheck[];
  close(): Promise<void>;
}

export async function createStateStores(_config: Config, database: Database): Promise<StateStores> {
  return {
    codes: sqliteCodeStore(database.sqlite),
    captchas: sqliteCaptchaStore(database.sqlite),
    checks: [sqliteHealthCheck(database.sqlite)],
    close: async () => {},
  };
}
