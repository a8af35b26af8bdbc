import type { Captcha } from './captcha/captcha.js';
import { offCaptcha } from './captcha/captcha.js';
import { imageCaptcha } from './captcha/image-captcha.js';
import { geetestCaptcha } from './captcha/geetest-captcha.js';
import { siteverifyCaptcha } from './captcha/siteverify-captcha.js';
import { tencentCaptcha } from './captcha/tencent-captcha.js';
import type { CaptchaKind, Config } from './config.js';
import { kyselyAccountRepository } from './db/account-repository.js';
import { kyselyAdminReadModel, kyselyOperatorRepository } from './db/admin-repository.js';
import { createAdminService, type AdminReadModel, type AdminService } from './domain/admin.js';
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
import { createAccountService, type AccountService, type PasswordHashing } from './domain/accounts.js';
import { allowedRegionsWithCallingCodes } from './domain/phone.js';
import { createRetentionSweep, type RetentionSweep } from './db/retention.js';
import { createHasher } from './domain/codes.js';
import { createFraudGuard, type FraudGuard } from './domain/fraud-guard.js';
import { redisFraudGuardStore } from './stores/fraud-guard-redis.js';
import { sqlFraudGuardStore } from './stores/fraud-guard-store.js';
import type { Logger } from './domain/logger.js';
import { createVerificationEngine } from './domain/engine.js';
import type { Admission } from './domain/admission.js';
import { postgresAdmission } from './stores/postgres-admission.js';
import { redisAdmission } from './stores/redis-admission.js';
import { sqliteAdmission } from './stores/sqlite-admission.js';
import type { VerificationEvents } from './domain/ports.js';
import { createVerificationService, type VerificationService } from './domain/verification.js';
import { accountSidFor, createApiKeys, createVerifyApi, type ApiKeys, type VerifyApi } from './domain/verify-api.js';
import { kyselyApiKeyRepository, kyselyVerifyRepository } from './db/verify-repository.js';
import { createSmsProvider, smsReachableRegions } from './sms/index.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import { countedAdmission, countedLimits, countedMessageLog, countedVerification } from './metrics/instrument.js';
import type { SmsMessageLog } from './sms/message-log.js';
import type { SmsProvider } from './sms/provider.js';
import { createStateStores, type StateStores } from './stores/index.js';
import type { HealthCheck } from './stores/types.js';
import { atomicWriter } from './db/atomic-write.js';
import { kyselyRefreshTokenRepository } from './db/refresh-token-repository.js';
import { jwtAccessTokens } from './tokens/access-tokens.js';
import { createSigningKeys, kyselySigningKeyRepository, type SigningKeys } from './tokens/signing-keys.js';
import { kyselyDeliveryRepository, type DeliveryRepository } from './webhooks/deliveries.js';
import { kyselyWebhookOutbox, type WebhookOutbox } from './webhooks/outbox.js';
import { createWebhookWorker, type WebhookWorker } from './webhooks/worker.js';
import { AppError } from './errors.js';

/** Everything the HTTP layer calls, built from the config. */
export interface Services {
  readonly accounts: AccountService;
  readonly verification: VerificationService;
  readonly twoFactor: TwoFactorService;
  /** The Verify API (/v2) and the keys it authenticates with. */
  readonly verifyApi: VerifyApi;
  readonly apiKeys: ApiKeys;
  /** `AC` + 32 hex, fixed per deployment (derived from SECRET). */
  readonly accountSid: string;
  readonly limits: Limits;
  /** The admin console's operations (operators only; routes under /api/admin). */
  readonly admin: AdminService;
  /** The SMS-pumping guard, for the console and the metrics. */
  readonly fraudGuard: FraudGuard;
  readonly captcha: Captcha;
  /** Every SMS attempt and its delivery reports. */
  readonly smsMessages: SmsMessageLog;
  readonly checks: readonly HealthCheck[];
  /** The access tokens' keys: GET /.well-known/jwks.json, npm run keys. */
  readonly signingKeys: SigningKeys;
  readonly webhooks: {
    /** Where other surfaces (the Verify API's verification.approved) publish their events. */
    readonly outbox: WebhookOutbox;
    readonly deliveries: DeliveryRepository;
    /** Undefined without WEBHOOK_URL. Not started here: server.ts starts it, tests drive deliverDue(). */
    readonly worker: WebhookWorker | undefined;
  };
  /** Deletes audit events and message log rows past their retention (started by the services). */
  readonly retention: RetentionSweep;
  /** Prometheus metrics of this instance (GET /metrics). */
  readonly metrics: Metrics;
  readonly publicConfig: {
    readonly captcha: CaptchaKind;
    /** The widget's key (Turnstile / hCaptcha site key, Tencent CaptchaAppId, GeeTest captcha_id); absent for image and off. */
    readonly captchaSiteKey?: string;
    readonly codeLength: number;
    readonly defaultRegion: string;
    readonly countries: { region: string; callingCode: string }[];
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
  /** Observers of sends and approvals (webhooks, fraud guard, metrics). */
  events?: VerificationEvents;
  /** argon2 wrapped (tests count the work a sign-in does). */
  passwords?: PasswordHashing;
}

/**
 * The console reads the message log where the batched writer puts it: what this instance has
 * queued is written first, so an operator sees the SMS that just went out.
 */
function flushedFirst(model: AdminReadModel, flush: () => Promise<void>): AdminReadModel {
  return {
    smsPerHour: async (since) => (await flush(), model.smsPerHour(since)),
    searchMessages: async (filter) => (await flush(), model.searchMessages(filter)),
    messagePhone: async (id) => (await flush(), model.messagePhone(id)),
    sessionsOf: (userId, now) => model.sessionsOf(userId, now),
  };
}

/** SMS per Verify API verification (the first send and its resends), as Twilio Verify allows. */
const VERIFY_MAX_SENDS = 5;

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

/**
 * The admission step (src/domain/admission.ts) where the codes live, since it stores them: Redis
 * when configured, else the database. Its send and check counters live there too, whatever
 * RATE_LIMIT_STORE says (that setting still places the other counters: captcha, password, 2FA).
 */
function admissionFor(config: Config, database: Database, stores: StateStores): Admission {
  if (stores.redis && config.redis) return redisAdmission(config.limits, stores.redis, { keyPrefix: config.redis.keyPrefix });
  return database.kind === 'postgres' ? postgresAdmission(config.limits, database.pool) : sqliteAdmission(config.limits, database.sqlite);
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
  const write = atomicWriter(database);
  const outbox = kyselyWebhookOutbox(database.db, write, config.webhooks.urls);
  const eventWrites = { write, statementsFor: outbox.statementsFor };
  const repo = kyselyAccountRepository(database.db, database.kind, eventWrites);
  const signingKeys = createSigningKeys({
    repo: kyselySigningKeyRepository(database.db),
    box: createSecretBox(secret, 'sms-verify signing key'),
    algorithm: config.tokens.algorithm,
    accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
    now,
  });
  try {
    await signingKeys.ensure();
  } catch (err) {
    await stores.close();
    await database.close();
    throw err;
  }
  const deliveries = kyselyDeliveryRepository(database.db, database.kind);
  const worker =
    config.webhooks.urls.length > 0 && config.webhooks.secret
      ? createWebhookWorker({ deliveries, secret: config.webhooks.secret, timeoutMs: config.webhooks.timeoutMs, now, log })
      : undefined;
  let fraudGuard: FraudGuard | undefined;
  let limits: Limits | undefined;
  const admission = admissionFor(config, database, stores);
  const metrics = createMetrics({
    fraudGuardBlocks: () => (fraudGuard?.knownBlocks() ?? []).map((b) => ({ kind: b.scope.startsWith('country:') ? 'country' : 'prefix' })),
    dailyBudgetUsedRatio: async () =>
      config.limits.smsDailyBudget > 0 ? (await admission.dailyBudgetUsed(now())) / config.limits.smsDailyBudget : undefined,
  });
  if (!overrides.sms) for (const provider of config.smsProvider) metrics.circuitOpen.set({ provider }, 0);
  // Message-log and audit rows are written in batches off the request path (src/db/row-batcher.ts).
  const batchedMessages = batchedSmsMessageLog(kyselySmsMessageLog(database.db), log);
  const smsMessages = countedMessageLog(batchedMessages, metrics);
  limits = countedLimits(createLimits(config.limits, overrides.limitBackend ?? limitBackendFor(config, database, stores)), metrics);
  const auditRows = batchedAuditLogRepository(kyselyAuditLogRepository(database.db), log);
  const audit = createAuditLog(auditRows, now, log);
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
      case 'tencent': {
        const { secret, siteKey, ...call } = config.captchaService!;
        const credentials = { secretId: config.tencent.secretId!, secretKey: config.tencent.secretKey! };
        return tencentCaptcha({ appId: siteKey, appSecretKey: secret, credentials, ...call, usedTokens: limits.usedCaptchaTokens, hasher, now, log });
      }
      case 'geetest': {
        const { secret, siteKey, ...call } = config.captchaService!;
        return geetestCaptcha({ captchaId: siteKey, captchaKey: secret, ...call, usedTokens: limits.usedCaptchaTokens, hasher, now, log });
      }
    }
  })();

  const sms =
    overrides.sms ??
    createSmsProvider(config, { log, messages: smsMessages, now, onCircuitChange: (provider, open) => metrics.circuitOpen.set({ provider }, open ? 1 : 0) });
  const engineSettings = {
    providerTimeoutMs: config.smsProviderTimeoutMs,
    // With SMS_ROUTES, a region no route covers is refused before anything is spent.
    allowedCountries: smsReachableRegions(config),
    prefixDigits: config.limits.prefixDigits,
    testPhoneNumbers: config.testPhoneNumbers,
    ipv6LimitPrefix: config.limits.ipv6LimitPrefix,
  };
  // Observers of the engine: a Verify API verification that is approved becomes a webhook event
  // (the sign-up's codes are reported as the account events they lead to).
  const engineEvents: VerificationEvents = {
    ...overrides.events,
    async codeApproved(event) {
      await overrides.events?.codeApproved?.(event);
      if (event.verificationSid === undefined) return;
      await outbox.publish({
        type: 'verification.approved',
        at: event.at,
        data: { phone: event.phone, verificationSid: event.verificationSid, serviceSid: event.scope },
      });
    },
  };
  // One engine for both clients: the sign-up protocol and the Verify API.
  const engine = createVerificationEngine({
    codes: stores.codes,
    sms,
    hasher,
    admission: countedAdmission(admission, metrics),
    audit,
    events: engineEvents,
    guard: config.fraudGuard.mode === 'off' ? undefined : fraudGuard,
    settings: engineSettings,
    now,
    log,
  });
  const verification = countedVerification(createVerificationService({
    engine,
    codes: stores.codes,
    captcha,
    sms,
    hasher,
    accountIdOf: async (phone) => {
      const user = await repo.findUserByPhone(phone);
      // A disabled account receives no codes (admin console); the send answers account_disabled.
      if (user?.disabledAt !== undefined) throw new AppError('account_disabled', { field: 'phone' });
      return user?.id;
    },
    limits,
    audit,
    settings: {
      ...config.code,
      ...engineSettings,
      appName: config.appName,
      defaultRegion: config.defaultRegion,
      privacyMode: config.privacyMode,
    },
    now,
    log,
  }), metrics);
  const verifyApi = createVerifyApi({
    engine,
    repo: kyselyVerifyRepository(database.db),
    settings: {
      defaultCodeLength: config.code.length,
      ttlSeconds: config.code.ttlSeconds,
      resendCooldownSeconds: config.code.resendCooldownSeconds,
      maxAttempts: config.code.maxAttempts,
      maxSends: VERIFY_MAX_SENDS,
    },
    now,
    log,
  });
  const apiKeys = createApiKeys(kyselyApiKeyRepository(database.db), secret, now);
  const twoFactor = createTwoFactorService({
    repo: kyselyTwoFactorRepository(database.db, eventWrites),
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
    accessTokens: jwtAccessTokens(
      signingKeys,
      { issuer: config.tokens.issuer, audience: config.tokens.audience, ttlSeconds: config.tokens.accessTokenTtlSeconds },
      now,
    ),
    refreshTokens: kyselyRefreshTokenRepository(database.db, write),
    passwordGuessLimits: { perIp: limits.failedLoginsPerIpHourly, perPhone: limits.failedLoginsPerPhoneHourly },
    ...(overrides.passwords ? { passwords: overrides.passwords } : {}),
    settings: {
      sessionTtlSeconds: config.sessionTtlSeconds,
      defaultRegion: config.defaultRegion,
      appName: config.appName,
      privacyMode: config.privacyMode,
      ipv6LimitPrefix: config.limits.ipv6LimitPrefix,
    },
    now,
    log,
  });
  const admin = createAdminService({
    operators: kyselyOperatorRepository(database.db),
    accounts: repo,
    readModel: flushedFirst(kyselyAdminReadModel(database.db), () => batchedMessages.flush()),
    twoFactorEnabled: (userId) => twoFactor.isEnabled(userId),
    fraudGuard,
    audit,
    refusals: async () =>
      (await metrics.limitRefusals.get()).values.map((v) => ({ limit: String(v.labels.limit), count: v.value })),
    dailyBudget: async () => {
      // The sends count the budget in the admission step, so that is where it is read.
      const budget = config.limits.smsDailyBudget;
      return budget > 0 ? { used: await admission.dailyBudgetUsed(now()), budget } : undefined;
    },
    defaultRegion: config.defaultRegion,
    verifyServices: () => verifyApi.listServices(),
    apiKeys,
    webhookDeliveries: deliveries,
    webhooksConfigured: worker !== undefined,
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
    verifyApi,
    apiKeys,
    accountSid: accountSidFor(secret),
    limits,
    admin,
    fraudGuard,
    captcha,
    smsMessages,
    checks: stores.checks,
    signingKeys,
    webhooks: { outbox, deliveries, worker },
    metrics,
    retention,
    publicConfig: {
      captcha: config.captcha,
      ...(config.captchaService ? { captchaSiteKey: config.captchaService.siteKey } : {}),
      codeLength: config.code.length,
      defaultRegion: config.defaultRegion,
      countries: allowedRegionsWithCallingCodes(smsReachableRegions(config)),
    },
    now,
    async flushRecords() {
      await Promise.all([batchedMessages.flush(), auditRows.flush()]);
    },
    async close() {
      await worker?.stop();
      retention.stop();
      await Promise.all([batchedMessages.close(), auditRows.close()]);
      await limits!.close();
      await stores.close();
      await database.close();
    },
  };
}
