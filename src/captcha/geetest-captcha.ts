import { createHmac } from 'node:crypto';
import { AppError } from '../errors.js';
import type { Captcha } from './captcha.js';
import { captchaUnavailable, claimToken, postToVerifier, type VendorCaptchaDeps } from './vendor-verify.js';

/** GeeTest v4's validate endpoint; CAPTCHA_VERIFY_URL overrides it (tests, egress proxies). */
export const GEETEST_VALIDATE_URL = 'https://gcaptcha4.geetest.com/validate';
/** The script the page loads for the widget (initGeetest4). */
export const GEETEST_SCRIPT = 'https://static.geetest.com/v4/gt4.js';

/** The four values GeeTest's widget hands the page after a pass (`getValidate()`). */
export type { GeetestAnswer } from '../domain/ports.js';
import type { GeetestAnswer } from '../domain/ports.js';

export interface GeetestCaptchaOptions extends VendorCaptchaDeps {
  /** CAPTCHA_SITE_KEY: the captcha_id. */
  readonly captchaId: string;
  /** CAPTCHA_SECRET: the captcha_key, which signs lot_number. */
  readonly captchaKey: string;
  readonly verifyUrl?: string | undefined;
  readonly timeoutMs: number;
}

/** sign_token: HMAC-SHA256 of lot_number under the captcha key, hex, as GeeTest's validate API asks. */
export function geetestSignToken(captchaKey: string, lotNumber: string): string {
  return createHmac('sha256', captchaKey).update(lotNumber, 'utf8').digest('hex');
}

/**
 * GeeTest v4 (极验): the widget's four values posted with sign_token to the validate endpoint.
 * Only `result: "success"` passes. GeeTest's own samples let the person through when validate is
 * unreachable; this service fails closed instead (503), since the captcha is what stands between
 * an attacker and the SMS bill. A lot_number works once here.
 */
export function geetestCaptcha(options: GeetestCaptchaOptions): Captcha {
  const url = `${options.verifyUrl ?? GEETEST_VALIDATE_URL}?captcha_id=${encodeURIComponent(options.captchaId)}`;
  const kind = 'geetest';
  return {
    kind,
    siteKey: options.captchaId,
    async verify({ geetest }) {
      if (!geetest) throw new AppError('captcha_required', { field: 'geetest' });
      await claimToken(options, `geetest:${geetest.lot_number}`, 'geetest');

      const form = new URLSearchParams({
        lot_number: geetest.lot_number,
        captcha_output: geetest.captcha_output,
        pass_token: geetest.pass_token,
        gen_time: geetest.gen_time,
        sign_token: geetestSignToken(options.captchaKey, geetest.lot_number),
      });
      const body = await postToVerifier(kind, options.log, url, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }, options.timeoutMs);
      if (body.status !== 'success') {
        // The call failed as a whole (GeeTest's `status: "error"` with a code): a wrong captcha_id or key, or GeeTest's fault.
        throw captchaUnavailable(options.log, kind, `validate answered status ${String(body.status)}: ${String(body.code)} ${String(body.msg)}`);
      }
      if (body.result === 'success') return;
      // A sign_token GeeTest refuses means our captcha key is wrong, not the person's answer.
      if (body.result === 'fail' && /sign_token/i.test(String(body.reason))) {
        throw captchaUnavailable(options.log, kind, `validate refused our sign_token (check CAPTCHA_SECRET): ${String(body.reason)}`);
      }
      if (body.result === 'fail') throw new AppError('captcha_invalid', { field: 'geetest' });
      throw captchaUnavailable(options.log, kind, 'validate answered an unexpected result');
    },
  } satisfies Captcha;
}

/** The settings CAPTCHA=geetest cannot work without, as "NAME: why" lines (checked at start). */
export function missingGeetestSettings(env: Readonly<Record<string, unknown>>): string[] {
  const lines: string[] = [];
  if (env.CAPTCHA_SITE_KEY === undefined) lines.push('CAPTCHA_SITE_KEY: required when CAPTCHA=geetest; the captcha_id from the GeeTest dashboard');
  if (env.CAPTCHA_SECRET === undefined) lines.push('CAPTCHA_SECRET: required when CAPTCHA=geetest; the captcha_key from the GeeTest dashboard');
  return lines;
}
