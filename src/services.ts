import type { Captcha } from './captcha/captcha.js';
import { offCaptcha } from './captcha/captcha.js';
import { imageCaptcha } from './captcha/image-captcha.js';
import { siteverifyCaptcha } from './captcha/siteverify-captcha.js';
import type { CaptchaKind, Config } from './config.js';
import { kyselyAccountRepository } from './db/account-repository.js';
import { kyselyAdminReadModel, kyselyOperatorRepository } from './db/admin-repository.js';
import { createAdminService, type AdminService } from './domain/admin.js';
import { openDatabase, type Database } from './db/database.js';
import { kyselySmsMessageLog } from './db/sms-message-repository.js';
import { kyselyAuditLogRepository } from './db/audit-log.js';
import { kyselyTwoFactorRepository } from './db/two-factor-repository.js';
import { createAuditLog } from './domain/audit.js';
import { createSecretBox } from './domain/secret-box.js';
import { createTwoFactorService, type TwoFactorService } from './domain/two-factor.js';
import { createLimits, memoryLimitBackend, sqliteLimitBackend, type LimitBackend, type Limits } from './limits/index.js';
import { postgresLimitBackend, redisLimitBackend } from './limits/index.js';
import { migrateDatabase } from './db/migrate.js';
import { createRetentionSweep, type RetentionSweep } from './db/retention.js';
import { createAccountService, type AccountService } from './domain/accounts.js';
import { createHasher } from './domain/codes.js';
import { createFraudGuard, type FraudGuard } from './domain/fraud-guard.js';
import { redisFraudGuardStore } from './stores/fraud-guard-redis.js';
import { sqlFraudGuardStore } from './stores/fraud-guard-store.js';
import type { Logger } from './domain/logger.js';
import { createVerificationService, type VerificationService } from './domain/verification.js';
import { createSmsProvider } from './sms/index.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import { countedLimits, countedMessageLog, countedVerification } from './metrics/instrument.js';
import type { SmsMessageLog } from './sms/message-log.js';
import type { SmsProvider } from './sms/provider.js';
import { createStateStores, type StateStores } from './stores/index.js';
import type { HealthCheck } from './stores/types.js';
import { AppError } from './errors.js';

/** Everything the HTTP layer calls, built from the config. */
export interface Services {
  readonly accounts: AccountService;
  readonly verification: VerificationService;
  readonly twoFactor: TwoFactorService;
  readonly limits: Limits;
  /** The admin console's operations (operators only; routes under /api/admin). */
  readonly admin: AdminService;
  /** The SMS-pumping guard, for the console and the metrics. */
  readonly fraudGuard: FraudGuard;
  readonly captcha: Captcha;
  /** Every SMS attempt and its delivery reports. */
  readonly smsMessages: SmsMessageLog;
  readonly checks: readonly HealthCheck[];
  /** Deletes audit events and message log rows past their retention (started by the services). */
  readonly retention: RetentionSweep;
  /** Prometheus metrics of this instance (GET /metrics). */
  readonly metrics: Metrics;
  readonly publicConfig: {
    readonly captcha: CaptchaKind;
    /** Turnstile / hCaptcha site key for the page's widget; absent for image and off. */
    readonly captchaSiteKey?: string;
    readonly codeLength: number;
    readonly defaultRegion: string;
  };
  readonly now: () => number;
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
  let fraudGuard: FraudGuard | undefined;
  let limits: Limits | undefined;
  const metrics = createMetrics({
    fraudGuardBlocks: () => (fraudGuard?.knownBlocks() ?? []).map((b) => ({ kind: b.scope.startsWith('country:') ? 'country' : 'prefix' })),
    dailyBudgetUsedRatio: async () => {
      const budget = limits?.smsDailyBudget;
      return budget ? (await budget.used('all', now())) / budget.points : undefined;
    },
  });
  if (!overrides.sms) for (const provider of config.smsProvider) metrics.circuitOpen.set({ provider }, 0);
  const smsMessages = countedMessageLog(kyselySmsMessageLog(database.db), metrics);
  limits = countedLimits(createLimits(config.limits, overrides.limitBackend ?? limitBackendFor(config, database, stores)), metrics);
  const audit = createAuditLog(kyselyAuditLogRepository(database.db), now, log);
  // The guard's counters are shared state: Redis when configured, else the database.
  const guardSqlStore = sqlFraudGuardStore(database.db);
  fraudGuard = createFraudGuard({
    store: stores.redis && config.redis ? redisFraudGuardStore(stores.redis, { keyPrefix: config.redis.keyPrefix }) : guardSqlStore,
    settings: { ...config.fraudGuard, prefixDigits: config.limits.prefixDigits, exemptNumbers: config.testPhoneNumbers },
    audit,
    log,
    now,
  });
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

  const verification = countedVerification(createVerificationService({
    codes: stores.codes,
    captcha,
    sms:
      overrides.sms ??
      createSmsProvider(config, { log, messages: smsMessages, now, onCircuitChange: (provider, open) => metrics.circuitOpen.set({ provider }, open ? 1 : 0) }),
    hasher,
    accountIdOf: async (phone) => {
      const user = await repo.findUserByPhone(phone);
      // A disabled account receives no codes (admin console); the send answers account_disabled.
      if (user?.disabledAt !== undefined) throw new AppError('account_disabled', { field: 'phone' });
      return user?.id;
    },
    limits,
    audit,
    guard: config.fraudGuard.mode === 'off' ? undefined : fraudGuard,
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
  }), metrics);
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
  const admin = createAdminService({
    operators: kyselyOperatorRepository(database.db),
    accounts: repo,
    readModel: kyselyAdminReadModel(database.db),
    twoFactorEnabled: (userId) => twoFactor.isEnabled(userId),
    fraudGuard,
    audit,
    refusals: async () =>
      (await metrics.limitRefusals.get()).values.map((v) => ({ limit: String(v.labels.limit), count: v.value })),
    dailyBudget: async () => {
      const budget = limits?.smsDailyBudget;
      return budget ? { used: await budget.used('all', now()), budget: budget.points } : undefined;
    },
    defaultRegion: config.defaultRegion,
    now,
    log,
  });
  const retention = createRetentionSweep({ database, settings: config.retention, now, log, extra: [guardSqlStore.sweep] });
  retention.start();
  if (config.testPhoneNumbers.size > 0) {
    log.warn({ count: config.testPhoneNumbers.size }, 'TEST_PHONE_NUMBERS is set: those numbers take a fixed code and skip the SMS provider and the limits');
  }

  return {
    accounts,
    verification,
    twoFactor,
    limits,
    admin,
    fraudGuard,
    captcha,
    smsMessages,
    checks: stores.checks,
    metrics,
    retention,
    publicConfig: {
      captcha: config.captcha,
      ...(config.captchaService ? { captchaSiteKey: config.captchaService.siteKey } : {}),
      codeLength: config.code.length,
      defaultRegion: config.defaultRegion,
    },
    now,
    async close() {
      retention.stop();
      await limits!.close();
      await stores.close();
      await database.close();
    },
  };
}
