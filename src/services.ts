import type { Captcha } from './captcha/captcha.js';
import { offCaptcha } from './captcha/captcha.js';
import { imageCaptcha } from './captcha/image-captcha.js';
import type { Config } from './config.js';
import { kyselyAccountRepository } from './db/account-repository.js';
import { openDatabase } from './db/database.js';
import { migrateDatabase } from './db/migrate.js';
import { createAccountService, type AccountService } from './domain/accounts.js';
import { createHasher } from './domain/codes.js';
import type { Logger } from './domain/logger.js';
import { createVerificationService, type VerificationService } from './domain/verification.js';
import { createSmsProvider } from './sms/index.js';
import type { SmsProvider } from './sms/provider.js';
import { createStateStores } from './stores/index.js';
import type { HealthCheck } from './stores/types.js';

/** Everything the HTTP layer calls, built from the config. */
export interface Services {
  readonly accounts: AccountService;
  readonly verification: VerificationService;
  readonly captcha: Captcha;
  readonly checks: readonly HealthCheck[];
  readonly publicConfig: { readonly captcha: 'image' | 'off'; readonly codeLength: number; readonly defaultRegion: string };
  readonly now: () => number;
  close(): Promise<void>;
}

/** Seams for tests: a fake clock, a recording provider, a captcha whose answer is known. */
export interface ServiceOverrides {
  now?: () => number;
  sms?: SmsProvider;
  captchaText?: () => string;
}

/** Opens the database, runs migrations and wires the domain to its stores and providers. */
export async function createServices(config: Config, secret: string, log: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const now = overrides.now ?? Date.now;
  const database = openDatabase(config, log);
  try {
    await migrateDatabase(config, database, log);
  } catch (err) {
    await database.close();
    throw err;
  }
  const stores = await createStateStores(config, database, log);
  const hasher = createHasher(secret);
  const repo = kyselyAccountRepository(database.db);
  const captcha =
    config.captcha === 'off'
      ? offCaptcha()
      : imageCaptcha({ store: stores.captchas, hasher, now, randomText: overrides.captchaText });

  const verification = createVerificationService({
    codes: stores.codes,
    captcha,
    sms: overrides.sms ?? createSmsProvider(config),
    hasher,
    isRegistered: async (phone) => (await repo.findUserByPhone(phone)) !== undefined,
    settings: {
      ...config.code,
      appName: config.appName,
      defaultRegion: config.defaultRegion,
      providerTimeoutMs: config.smsProviderTimeoutMs,
    },
    now,
    log,
  });
  const accounts = createAccountService({
    repo,
    verification,
    hasher,
    settings: { sessionTtlSeconds: config.sessionTtlSeconds, defaultRegion: config.defaultRegion },
    now,
    log,
  });

  return {
    accounts,
    verification,
    captcha,
    checks: stores.checks,
    publicConfig: { captcha: config.captcha, codeLength: config.code.length, defaultRegion: config.defaultRegion },
    now,
    async close() {
      await stores.close();
      await database.close();
    },
  };
}
