import { AppError } from '../errors.js';
import { captchaUnavailable, claimToken, postToVerifier, type VendorCaptchaDeps } from './vendor-verify.js';
import type { Captcha, CaptchaAnswer } from './captcha.js';

/** The providers' documented endpoints; CAPTCHA_VERIFY_URL overrides them (tests, egress proxies). */
export const SITEVERIFY_URLS = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
} as const;

/** Turnstile documents 2048 characters as the longest token; anything longer is not one. */
const MAX_TOKEN_LENGTH = 2048;

/** Error codes that mean our configuration is wrong, not the person's answer. */
const OPERATOR_ERRORS = new Set(['missing-input-secret', 'invalid-input-secret', 'sitekey-secret-mismatch', 'invalid-or-already-seen-response-secret']);

export interface SiteverifyCaptchaOptions extends VendorCaptchaDeps {
  readonly kind: 'turnstile' | 'hcaptcha';
  readonly secret: string;
  readonly siteKey: string;
  readonly verifyUrl?: string | undefined;
  readonly timeoutMs: number;
}

function refuseMalformedToken({ captchaToken }: CaptchaAnswer): void {
  if (!captchaToken) throw new AppError('captcha_required', { field: 'captchaToken' });
  if (captchaToken.length > MAX_TOKEN_LENGTH) throw new AppError('captcha_invalid', { field: 'captchaToken' });
}

/**
 * Cloudflare Turnstile or hCaptcha, verified server side through siteverify (a form-encoded POST
 * of secret, response and remoteip). Fails closed: a verifier that is down, slow or answers
 * something unreadable is `service_unavailable`, never a pass.
 */
export function siteverifyCaptcha(options: SiteverifyCaptchaOptions): Captcha {
  const url = options.verifyUrl ?? SITEVERIFY_URLS[options.kind];
  return {
    kind: options.kind,
    siteKey: options.siteKey,
    precheck: refuseMalformedToken,
    async verify({ captchaToken, remoteIp }) {
      refuseMalformedToken({ captchaToken });
      if (!captchaToken) return;
      await claimToken(options, captchaToken, 'captchaToken');

      const form = new URLSearchParams({ secret: options.secret, response: captchaToken });
      if (remoteIp) form.set('remoteip', remoteIp);
      if (options.kind === 'hcaptcha') form.set('sitekey', options.siteKey);
      const body = await postToVerifier(options.kind, options.log, url, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }, options.timeoutMs);
      if (typeof body.success !== 'boolean') throw captchaUnavailable(options.log, options.kind, 'siteverify answered an unexpected body');
      if (body.success) return;
      const codes = Array.isArray(body['error-codes']) ? body['error-codes'].filter((c): c is string => typeof c === 'string') : [];
      if (codes.some((c) => OPERATOR_ERRORS.has(c))) {
        throw captchaUnavailable(options.log, options.kind, `siteverify refused our configuration: ${codes.join(',')}`);
      }
      throw new AppError('captcha_invalid', { field: 'captchaToken' });
    },
  } satisfies Captcha;
}
