import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { recordingSmsProvider, type RecordingSmsProvider } from './fake-sms.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';
/** The answer every image captcha has in tests, since a test cannot read the picture. */
export const CAPTCHA_TEXT = 'Ak3X';

/** A clock the test moves by hand. */
export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  config: Config;
  sms: RecordingSmsProvider;
  clock: FakeClock;
  /** The app's own SQLite connection (undefined when DATABASE_URL is PostgreSQL). */
  database: SqliteDatabase | undefined;
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  dir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (to test restarts). */
  dir?: string;
  clock?: FakeClock;
  sms?: RecordingSmsProvider;
  /** Use the providers SMS_PROVIDER names (with the message log), not the recording one. */
  providerFromConfig?: boolean;
  /** SMS_OUTBOX_FILE inside the test's data folder (outbox.jsonl). */
  outboxInDir?: boolean;
  /** Limit counters somewhere else than RATE_LIMIT_STORE says (e.g. a Redis backend with a test prefix). */
  limitBackend?: import('../../src/limits/index.js').LimitBackend;
  /** Built web pages to serve (default: web/dist, when it has been built). */
  webRoot?: string;
  /** argon2 wrapped, to count what a sign-in does. */
  passwords?: import('../../src/domain/accounts.js').PasswordHashing;
}

/** The real app on a temporary SQLite file, with a recording SMS provider and a fake clock. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sms-verify-test-'));
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'test.db')}`,
    SECRET: TEST_SECRET,
    CAPTCHA: 'off',
    LOG_LEVEL: 'info',
    ...options.env,
    ...(options.outboxInDir ? { SMS_OUTBOX_FILE: join(dir, 'outbox.jsonl') } : {}),
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const sms = options.sms ?? recordingSmsProvider();
  const clock = options.clock ?? fakeClock();
  const database = config.sqlitePath === undefined ? undefined : openSqliteDatabase(config.sqlitePath);
  const services = await createServices(config, TEST_SECRET, logger, {
    now: clock.now,
    ...(options.providerFromConfig ? {} : { sms }),
    captchaText: () => CAPTCHA_TEXT,
    ...(database ? { database } : {}),
    ...(options.limitBackend ? { limitBackend: options.limitBackend } : {}),
    ...(options.passwords ? { passwords: options.passwords } : {}),
  });
  const app = await buildApp({ config, services, logger, webRoot: options.webRoot });
  await app.ready();
  return {
    app,
    services,
    config,
    sms,
    clock,
    database,
    logs,
    dir,
    async close() {
      await app.close();
      await services.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PHONE = '+8613800138000';
export const PASSWORD = 'correct horse battery';

/** POST JSON through app.inject and return status, parsed body and headers. */
export async function post(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url, payload: body as object, headers });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined, headers: res.headers, cookies: res.cookies };
}

/** Sends a code and returns it as the SMS carried it. */
export async function sendCode(t: TestApp, phone: string, purpose: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await post(t.app, '/api/sms/send', { phone, purpose }, headers);
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  const last = t.sms.sent.at(-1);
  if (!last) throw new Error('the provider recorded no message');
  return last.code;
}

/** Registers PHONE (or another number) and returns the session token. */
export async function registerUser(t: TestApp, phone = PHONE, password = PASSWORD): Promise<string> {
  const code = await sendCode(t, phone, 'register');
  const res = await post(t.app, '/api/register', { phone, code, password });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}
