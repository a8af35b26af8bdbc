import type { CaptchaKind } from '../config.js';

/** What the client answered (fields of POST /api/sms/send). */
export interface CaptchaAnswer {
  readonly captchaId?: string | undefined;
  readonly captchaAnswer?: string | undefined;
  /** The Turnstile / hCaptcha widget's token. */
  readonly captchaToken?: string | undefined;
  /** The client's IP, passed on to siteverify as `remoteip`. */
  readonly remoteIp?: string | undefined;
}

export interface CaptchaChallenge {
  readonly captchaId: string;
  /** A PNG image as a data: URL, ready for <img src>. */
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
  /** The public key the page's widget needs (Turnstile, hCaptcha). */
  readonly siteKey?: string;
  /** Issues a new challenge; undefined for kinds that have none to issue. */
  readonly create?: () => Promise<CaptchaChallenge>;
  verify(answer: CaptchaAnswer): Promise<void>;
  /**
   * Throws captcha_required / captcha_invalid for an answer that cannot be right, from its shape
   * alone: no store, no network. Run before anything else a send does, so the cheapest requests
   * of a flood are refused at the cheapest point.
   */
  readonly precheck?: (answer: CaptchaAnswer) => void;
}

/** CAPTCHA=off: the operator chose to send without a human check (tests, internal tools). */
export function offCaptcha(): Captcha {
  return { kind: 'off', async verify() {} } satisfies Captcha;
}
