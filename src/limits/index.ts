import type { LimitSettings } from '../config.js';
import type { LimitBackend } from './backends.js';
import { fixedWindowLimit } from './fixed-window.js';
import type { Limits } from './types.js';

export { memoryLimitBackend, postgresLimitBackend, redisLimitBackend, sqliteLimitBackend, type LimitBackend } from './backends.js';
export type { LimitDecision, Limits, RateLimit } from './types.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
/** Turnstile and hCaptcha tokens live at most 300 s; remembering a used one that long outlasts it. */
const CAPTCHA_TOKEN_MEMORY_SECONDS = 300;

/**
 * The one place that turns the limit settings into rules on a backend. To move the counters to
 * Redis, pass `redisLimitBackend(ioredisClient)`; nothing else changes.
 */
export function createLimits(settings: LimitSettings, backend: LimitBackend): Limits {
  const hourly = (name: string, points: number) => fixedWindowLimit(backend, { name, points, windowSeconds: HOUR });
  return {
    smsPerPhoneHourly: hourly('sms_phone_h', settings.smsPerPhoneHourly),
    smsPerPhoneDaily: fixedWindowLimit(backend, { name: 'sms_phone_d', points: settings.smsPerPhoneDaily, windowSeconds: DAY }),
    smsPerIpHourly: hourly('sms_ip_h', settings.smsPerIpHourly),
    smsPerPrefixHourly: hourly('sms_prefix_h', settings.smsPerPrefixHourly),
    // Aligned daily windows are UTC days, so the budget comes back at midnight UTC.
    smsDailyBudget:
      settings.smsDailyBudget > 0
        ? fixedWindowLimit(backend, { name: 'sms_budget_d', points: settings.smsDailyBudget, windowSeconds: DAY })
        : undefined,
    checksPerIpHourly: hourly('checks_ip_h', settings.checksPerIpHourly),
    captchasPerIpHourly: hourly('captchas_ip_h', settings.captchasPerIpHourly),
    failedCaptchasPerIpHourly: hourly('failed_captcha_ip_h', settings.captchaFailuresPerIpHourly),
    failedChecksPerPhoneHourly: hourly('failed_checks_h', settings.failedChecksPerPhoneHourly),
    failedSecondFactorPerUserHourly: hourly('failed_2fa_h', settings.failedChecksPerPhoneHourly),
    failedLoginsPerIpHourly: hourly('failed_login_ip_h', settings.failedLoginsPerIpHourly),
    failedLoginsPerPhoneHourly: hourly('failed_login_phone_h', settings.failedLoginsPerPhoneHourly),
    usedCaptchaTokens: fixedWindowLimit(backend, {
      name: 'captcha_tokens',
      points: 1,
      windowSeconds: CAPTCHA_TOKEN_MEMORY_SECONDS,
      aligned: false,
    }),
    close: () => backend.close(),
  };
}
