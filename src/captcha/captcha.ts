import type { CaptchaKind } from '../config.js';
import type { GeetestAnswer } from './geetest-captcha.js';

/** What the client answered (fields of POST /api/sms/send). */
export interface CaptchaAnswer {
  readonly captchaId?: string | undefined;
  readonly captchaAnswer?: string | undefined;
  /** The Turnstile / hCaptcha widget's token, or Tencent Captcha's ticket. */
  readonly captchaToken?: string | undefined;
  /** Tencent Captcha's randstr, which goes with its ticket. */
  readonly captchaRandstr?: string | undefined;
  /** The four values GeeTest v4's widget returns. */
  readonly geetest?: GeetestAnswer | undefined;
  /** The client's IP, passed on to siteverify as `remoteip`. */
  readonly remoteIp?: string | undefined;
}

export interface CaptchaChallenge {
  readonly captchaId: string;
  /** An SVG image as a data: URL, ready for <img src>. */
  readonly image: string;
  /** Seconds until the challenge expires. */
  readonly expiresIn: number;
}

/**
 * The human check in front of every SMS send. `verify` burns the challenge whatever the outcome
 * and throws captcha_required or captcha_invalid.
 */
export interface Captcha {
  readonly kind: CaptchaKind;
  /** The public key the page's widget needs (Turnstile, hCaptcha, Tencent's app id, GeeTest's captcha_id). */
  readonly siteKey?: string;
  /** Issues a new challenge; undefined for kinds that have none to issue. */
  readonly create?: () => Promise<CaptchaChallenge>;
  verify(answer: CaptchaAnswer): Promise<void>;
}

/** CAPTCHA=off: the operator chose to send without a human check (tests, internal tools). */
export function offCaptcha(): Captcha {
  return { kind: 'off', async verify() {} } satisfies Captcha;
}
