import type { Captcha } from '../domain/ports.js';

export type { Captcha, CaptchaAnswer, CaptchaChallenge } from '../domain/ports.js';

/** CAPTCHA=off: the operator chose to send without a human check (tests, internal tools). */
export function offCaptcha(): Captcha {
  return { kind: 'off', async verify() {} } satisfies Captcha;
}
