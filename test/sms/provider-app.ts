import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { fakeClock, TEST_SECRET, type FakeClock } from '../helpers/app.js';

/** The secret path segment of the delivery-report callbacks in these tests. */
export const CALLBACK_TOKEN = 'callback-token-0123456789abcdef';

export interface ProviderTestApp {
  app: FastifyInstance;
  services: Services;
  config: Config;
  clock: FakeClock;
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  /** Rows of sms_messages, read straight from the SQLite file (after the queued rows are written). */
  messageRows(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * The real app with its SMS provider built from the config, as in production: the env selects
 * the provider and points it at a fake on 127.0.0.1. Nothing replaces the provider.
 */
export async function createProviderTestApp(env: Record<string, string>): Promise<ProviderTestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-provider-'));
  const dbFile = join(dir, 'test.db');
  const config = loadConfig({
    DATABASE_URL: `sqlite:${dbFile}`,
    SECRET: TEST_SECRET,
    CAPTCHA: 'off',
    LOG_LEVEL: 'info',
    SMS_CALLBACK_TOKEN: CALLBACK_TOKEN,
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const clock = fakeClock();
  const services = await createServices(config, TEST_SECRET, logger, { now: clock.now });
  const app = await buildApp({ config, services, logger });
  await app.ready();
  return {
    app,
    services,
    config,
    clock,
    logs,
    async messageRows() {
      await services.flushRecords();
      const db = new BetterSqlite3(dbFile, { readonly: true });
      try {
        return db.prepare('SELECT * FROM sms_messages ORDER BY created_at, rowid').all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    async close() {
      await app.close();
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
