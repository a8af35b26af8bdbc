import { AppError } from '../errors.js';
import { tencentApiHeaders, type Tc3Credentials } from '../sms/tencent-signer.js';
import type { Captcha } from './captcha.js';
import { captchaUnavailable, claimToken, postToVerifier, type VendorCaptchaDeps } from './vendor-verify.js';

/** DescribeCaptchaResult's endpoint; CAPTCHA_VERIFY_URL overrides it (tests, egress proxies). */
export const TENCENT_CAPTCHA_ENDPOINT = 'https://captcha.tencentcloudapi.com';
/** The script the page loads for the widget; its origin is the one the pages' CSP opens. */
export const TENCENT_CAPTCHA_SCRIPT = 'https://turing.captcha.qcloud.com/TJCaptcha.js';

export interface TencentCaptchaOptions extends VendorCaptchaDeps {
  /** CAPTCHA_SITE_KEY: the CaptchaAppId (digits) the page's widget was built with. */
  readonly appId: string;
  /** CAPTCHA_SECRET: the AppSecretKey of that captcha app. */
  readonly appSecretKey: string;
  /** TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY: the Cloud API key that signs the call. */
  readonly credentials: Tc3Credentials;
  readonly verifyUrl?: string | undefined;
  readonly timeoutMs: number;
}

/**
 * The CaptchaCode values that blame the answer (the person's ticket): 7 randstr does not match,
 * 8 ticket expired (5 minutes), 9 ticket reused, 10 ticket format, 15 ticket cannot be decrypted,
 * 21 risk control refused the request, 25 invalid ticket. Every other code other than 1 (16 app id
 * wrong, 26 Tencent's internal error, 31 no package or arrears, 100 app id / secret mismatch) says
 * our side or Tencent's cannot give a verdict, so the send is 503, not a wrong answer.
 */
const ANSWER_CODES = new Set([7, 8, 9, 10, 15, 21, 25]);

/** Tencent documents tickets of a few hundred characters; anything this long is not one. */
const MAX_TICKET_LENGTH = 2048;
const MAX_RANDSTR_LENGTH = 128;

/**
 * Tencent Captcha (腾讯云验证码): the widget's ticket and randstr, verified with
 * DescribeCaptchaResult (captcha API 2019-07-22, CaptchaType 9), TC3-signed with the Cloud API
 * key exactly as Tencent's SDK signs. Only CaptchaCode 1 passes; a ticket works once here even
 * while Tencent would still accept it.
 */
export function tencentCaptcha(options: TencentCaptchaOptions): Captcha {
  const endpoint = options.verifyUrl ?? TENCENT_CAPTCHA_ENDPOINT;
  const kind = 'tencent';
  return {
    kind,
    siteKey: options.appId,
    async verify({ captchaToken, captchaRandstr, remoteIp }) {
      if (!captchaToken || !captchaRandstr) throw new AppError('captcha_required', { field: 'captchaToken' });
      if (captchaToken.length > MAX_TICKET_LENGTH || captchaRandstr.length > MAX_RANDSTR_LENGTH) {
        throw new AppError('captcha_invalid', { field: 'captchaToken' });
      }
      await claimToken(options, captchaToken, 'captchaToken');

      const body = JSON.stringify({
        CaptchaType: 9,
        Ticket: captchaToken,
        UserIp: remoteIp ?? '',
        Randstr: captchaRandstr,
        CaptchaAppId: Number(options.appId),
        AppSecretKey: options.appSecretKey,
      });
      const headers = tencentApiHeaders(options.credentials, {
        endpoint,
        service: 'captcha',
        action: 'DescribeCaptchaResult',
        version: '2019-07-22',
        timestamp: Math.floor(Date.now() / 1000),
        body,
      });
      const answer = await postToVerifier(kind, options.log, endpoint, { headers, body }, options.timeoutMs);
      const response = answer.Response as Record<string, unknown> | undefined;
      if (typeof response !== 'object' || response === null) throw captchaUnavailable(options.log, kind, 'answer without a Response object');
      const error = response.Error as { Code?: unknown } | undefined;
      if (error !== undefined) {
        // The call itself failed: our API key, its permissions, Tencent's throttling.
        throw captchaUnavailable(options.log, kind, `DescribeCaptchaResult failed: ${String(error?.Code)} (request ${String(response.RequestId)})`);
      }
      const code = response.CaptchaCode;
      if (code === 1) return;
      if (typeof code === 'number' && ANSWER_CODES.has(code)) throw new AppError('captcha_invalid', { field: 'captchaToken' });
      throw captchaUnavailable(options.log, kind, `DescribeCaptchaResult answered CaptchaCode ${String(code)}: ${String(response.CaptchaMsg)} (request ${String(response.RequestId)})`);
    },
  } satisfies Captcha;
}

/** The settings CAPTCHA=tencent cannot work without, as "NAME: why" lines (checked at start). */
export function missingTencentCaptchaSettings(env: Readonly<Record<string, unknown>>): string[] {
  const lines: string[] = [];
  if (env.CAPTCHA_SITE_KEY === undefined) lines.push('CAPTCHA_SITE_KEY: required when CAPTCHA=tencent; the CaptchaAppId from the Tencent Captcha console (验证管理)');
  else if (!/^\d+$/.test(String(env.CAPTCHA_SITE_KEY))) lines.push('CAPTCHA_SITE_KEY: with CAPTCHA=tencent it is the numeric CaptchaAppId, e.g. 190000000');
  if (env.CAPTCHA_SECRET === undefined) lines.push('CAPTCHA_SECRET: required when CAPTCHA=tencent; the AppSecretKey of that CaptchaAppId');
  for (const name of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY']) {
    if (env[name] === undefined) lines.push(`${name}: required when CAPTCHA=tencent; DescribeCaptchaResult is signed with a Tencent Cloud API key allowed captcha:DescribeCaptchaResult`);
  }
  return lines;
}
