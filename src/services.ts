import type { Captcha } from './captcha/captcha.js';
import { offCaptcha } from './captcha/captcha.js';
import { imageCaptcha } from './captcha/image-captcha.js';
import { siteverifyCaptcha } from './captcha/siteverify-captcha.js';
import type { CaptchaKind, Config } from './config.js';
import { kyselyAccountRepository } from './db/account-repository.js';
import { openDatabase, type Database } from './db/database.js';
import { batchedSmsMessageLog, kyselySmsMessageLog } from './db/sms-message-repository.js';
import { batchedAuditLogRepository, kyselyAuditLogRepository } from './db/audit-log.js';
import { kyselyTwoFactorRepository } from './db/two-factor-repository.js';
import { createAuditLog } from './domain/audit.js';
import { createSecretBox } from './domain/secret-box.js';
import { createTwoFactorService, type TwoFactorService } from './domain/two-factor.js';
import { createLimits, memoryLimitBackend, sqliteLimitBackend, type LimitBackend, type Limits } from './limits/index.js';
import { postgresLimitBackend, redisLimitBackend } from './limits/index.js';
import { migrateDatabase } from './db/migrate.js';
import { createAccountService, type AccountService } from './domain/accounts.js';
import { createHasher } from './domain/codes.js';
import type { Logger } from './domain/logger.js';
import { createVerificationService, type VerificationService } from './domain/verification.js';
import { createSmsProvider } from './sms/index.js';
import type { SmsMessageLog } from './sms/message-log.js';
import type { SmsProvider } from './sms/provider.js';
import { createStateStores, type StateStores } from './stores/index.js';
import type { HealthCheck } from './stores/types.js';

/** Everything the HTTP layer calls, built from the config. */
export interface Services {
  readonly accounts: AccountService;
  readonly verification: VerificationService;
  readonly twoFactor: TwoFactorService;
  readonly limits: Limits;
  readonly captcha: Captcha;
  /** Every SMS attempt and its delivery reports. */
  readonly smsMessages: SmsMessageLog;
  readonly checks: readonly HealthCheck[];
  readonly publicConfig: {
    readonly captcha: CaptchaKind;
    /** Turnstile / hCaptcha site key for the page's widget; absent for image and off. */
    readonly captchaSiteKey?: string;
    readonly codeLength: number;
    readonly defaultRegion: string;
  };
  readonly now: () => number;
  /** Writes the audit and message-log rows still queued (they are written in batches, off the request path). */
  flushRecords(): Promise<void>;
  close(): Promise<void>;
}

/** Seams for tests: a fake clock, a recording provider, a captcha whose answer is known. */
export interface ServiceOverrides {
  now?: () => number;
  sms?: SmsProvider;
  captchaText?: () => string;
  /** An already opened database (tests use it to inject faults over the real connection); closed with the services. */
  database?: Database;
  /** Where limit counters live, instead of RATE_LIMIT_STORE (tests pass a Redis backend with their own prefix). */
  limitBackend?: LimitBackend;
}

/** RATE_LIMIT_STORE → a backend on a connection the services already hold. */
function limitBackendFor(config: Config, database: Database, stores: StateStores): LimitBackend {
  switch (config.rateLimitStore) {
    case 'memory':
      return memoryLimitBackend();
    case 'sqlite':
      if (database.kind !== 'sqlite') throw new Error('RATE_LIMIT_STORE=sqlite needs a SQLite DATABASE_URL');
      return sqliteLimitBackend(database.sqlite);
    case 'postgres':
      if (database.kind !== 'postgres') throw new Error('RATE_LIMIT_STORE=postgres needs a PostgreSQL DATABASE_URL');
      return postgresLimitBackend(database.pool);
    case 'redis':
      if (!stores.redis || !config.redis) throw new Error('RATE_LIMIT_STORE=redis needs REDIS_URL or REDIS_CLUSTER_NODES');
      return redisLimitBackend(stores.redis, `${config.redis.keyPrefix}limit`);
  }
}

/** Opens the database, runs migrations and wires the domain to its stores and providers. */
export async function createServices(config: Config, secret: string, log: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const now = overrides.now ?? Date.now;
  const database = overrides.database ?? openDatabase(config, log);
  try {
    await migrateDatabase(config, database, log);
  } catch (err) {
    await database.close();
    throw err;
  }
  const stores = await createStateStores(config, database, log);
  const hasher = createHasher(secret);
  const repo = kyselyAccountRepository(database.db);
  const smsMessages = batchedSmsMessageLog(kyselySmsMessageLog(database.db), log);
  const limits = createLimits(config.limits, overrides.limitBackend ?? limitBackendFor(config, database, stores));
  const auditRows = batchedAuditLogRepository(kyselyAuditLogRepository(database.db), log);
  const audit = createAuditLog(auditRows, now, log);
  const captcha = (() => {
    switch (config.captcha) {
      case 'off':
        return offCaptcha();
      case 'image':
        return imageCaptcha({ store: stores.captchas, hasher, now, randomText: overrides.captchaText });
      case 'turnstile':
      case 'hcaptcha':
        return siteverifyCaptcha({ kind: config.captcha, ...config.captchaService!, usedTokens: limits.usedCaptchaTokens, hasher, now, log });
    }
  })();

  const verification = createVerificationService({
    codes: stores.codes,
    captcha,
    sms: overrides.sms ?? createSmsProvider(config, { log, messages: smsMessages, now }),
    hasher,
    accountIdOf: async (phone) => (await repo.findUserByPhone(phone))?.id,
    limits,
    audit,
    settings: {
      ...config.code,
      appName: config.appName,
      defaultRegion: config.defaultRegion,
      providerTimeoutMs: config.smsProviderTimeoutMs,
      allowedCountries: config.limits.allowedCountries,
      prefixDigits: config.limits.prefixDigits,
      privacyMode: config.privacyMode,
      testPhoneNumbers: config.testPhoneNumbers,
    },
    now,
    log,
  });
  const twoFactor = createTwoFactorService({
    repo: kyselyTwoFactorRepository(database.db),
    accounts: repo,
    box: createSecretBox(secret),
    hasher,
    failures: limits.failedSecondFactorPerUserHourly,
    audit,
    issuer: config.appName,
    now,
    log,
  });
  const accounts = createAccountService({
    repo,
    verification,
    twoFactor,
    audit,
    hasher,
    passwordGuessLimits: { perIp: limits.failedLoginsPerIpHourly, perPhone: limits.failedLoginsPerPhoneHourly },
    settings: {
      sessionTtlSeconds: config.sessionTtlSeconds,
      defaultRegion: config.defaultRegion,
      appName: config.appName,
      privacyMode: config.privacyMode,
    },
    now,
    log,
  });
  if (config.testPhoneNumbers.size > 0) {
    log.warn({ count: config.testPhoneNumbers.size }, 'TEST_PHONE_NUMBERS is set: those numbers take a fixed code and skip the SMS provider and the limits');
  }

  return {
    accounts,
    verification,
    twoFactor,
    limits,
    captcha,
    smsMessages,
    checks: stores.checks,
    publicConfig: {
      captcha: config.captcha,
      ...(config.captchaService ? { captchaSiteKey: config.captchaService.siteKey } : {}),
      codeLength: config.code.length,
      defaultRegion: config.defaultRegion,
    },
    now,
    async flushRecords() {
      await Promise.all([smsMessages.flush(), auditRows.flush()]);
    },
    async close() {
      await Promise.all([smsMessages.close(), auditRows.close()]);
      await limits.close();
      await stores.close();
      await database.close();
    },
  };
}
