import { randomUUID } from 'node:crypto';
import type { Purpose } from '../config.js';
import { acs3Authorization, acs3ContentSha256 } from './aliyun-signer.js';
import { SmsSendError, type SmsFailureKind, type SmsProvider } from './provider.js';
import { isRecord, parseProviderJson, postToProvider, providerReason, stringField } from './provider-http.js';

/** Settings of aliyunSmsProvider, named after the env vars they come from. */
export interface AliyunSmsOptions {
  /** ALIBABA_CLOUD_ACCESS_KEY_ID */
  readonly accessKeyId: string | undefined;
  /** ALIBABA_CLOUD_ACCESS_KEY_SECRET */
  readonly accessKeySecret: string | undefined;
  /** ALIYUN_SMS_SIGN_NAME */
  readonly signName: string | undefined;
  /** ALIYUN_SMS_TEMPLATE_CODE: the template for purposes without their own. */
  readonly templateCode: string | undefined;
  /** ALIYUN_SMS_TEMPLATE_CODE_REGISTER, …: per-purpose templates. */
  readonly templateCodes?: Readonly<Partial<Record<Purpose, string>>>;
  /** ALIYUN_SMS_ENDPOINT, e.g. https://dysmsapi.aliyuncs.com */
  readonly endpoint: string;
  readonly now?: () => number;
}

const RATE_LIMITED = new Set(['isv.BUSINESS_LIMIT_CONTROL']);
const INVALID_NUMBER = new Set(['isv.MOBILE_NUMBER_ILLEGAL']);

/**
 * Which kind of failure an Aliyun `Code` is. isv.BUSINESS_LIMIT_CONTROL is the per-number
 * frequency control (1/minute, 5/hour, 10/day by default); isv.DAY_LIMIT_CONTROL is the account's
 * daily quota, which another provider can get around, so it is `rejected`.
 */
export function classifyAliyunCode(code: string): SmsFailureKind {
  if (INVALID_NUMBER.has(code)) return 'invalid_number';
  if (RATE_LIMITED.has(code)) return 'rate_limited';
  if (code.startsWith('isp.') || code.startsWith('Throttling') || code === 'ServiceUnavailable' || code.startsWith('InternalError')) {
    return 'unavailable';
  }
  return 'rejected';
}

function required(value: string | undefined, envVar: string): string {
  if (!value) throw new Error(`Aliyun SMS: ${envVar} is not set; set it to enable SMS_PROVIDER=aliyun`);
  return value;
}

/** Dysmsapi wants mainland numbers without +86 and others as country code + number without "+". */
export function aliyunPhoneNumber(e164: string): string {
  return e164.startsWith('+86') ? e164.slice(3) : e164.replace(/^\+/, '');
}

/**
 * Aliyun SMS (Dysmsapi 2017-05-25 SendSms), signed with signature V3 (ACS3-HMAC-SHA256, which
 * Alibaba recommends over the RPC HMAC-SHA1 signature): the action, version, date and nonce in
 * x-acs-* headers, the parameters in a form body whose SHA-256 is signed. test/sms/aliyun-signer.test.ts
 * reproduces Alibaba's published example. Business errors come back as HTTP 200 with a `Code` other than "OK".
 * The template takes one parameter, `${code}`.
 */
export function aliyunSmsProvider(options: AliyunSmsOptions) {
  const accessKeyId = required(options.accessKeyId, 'ALIBABA_CLOUD_ACCESS_KEY_ID');
  const accessKeySecret = required(options.accessKeySecret, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const signName = required(options.signName, 'ALIYUN_SMS_SIGN_NAME');
  const templateCodes = options.templateCodes ?? {};
  const fallbackTemplate = options.templateCode;
  if ((['register', 'login', 'reset_password', 'change_phone'] as const).some((p) => !templateCodes[p])) {
    required(fallbackTemplate, 'ALIYUN_SMS_TEMPLATE_CODE');
  }
  const url = `${options.endpoint}/`;
  const now = options.now ?? Date.now;

  return {
    name: 'aliyun',
    sendsNotices: false,
    async send(message, signal) {
      // Template providers can only fill a verification template; a notice sent through it would
      // read "your code is ," — refuse it so failover can try a free-text provider instead.
      if (message.kind === 'notice') throw new SmsSendError('rejected', 'aliyun: notices (no code) need a free-text provider');
      const params: Record<string, string> = {
        PhoneNumbers: aliyunPhoneNumber(message.to),
        SignName: signName,
        TemplateCode: templateCodes[message.purpose] ?? fallbackTemplate ?? '',
        TemplateParam: JSON.stringify({ code: message.code }),
        OutId: message.messageId,
      };
      const body = new URLSearchParams(params).toString();
      const headers: Record<string, string> = {
        host: new URL(url).host,
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-action': 'SendSms',
        'x-acs-version': '2017-05-25',
        // ISO 8601 in UTC without milliseconds, the only form the API accepts.
        'x-acs-date': new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'x-acs-signature-nonce': randomUUID(),
        'x-acs-content-sha256': acs3ContentSha256(body),
      };
      const authorization = acs3Authorization(accessKeyId, accessKeySecret, { method: 'POST', path: '/', query: {}, headers, body });
      // fetch derives Host from the URL itself, the same value that was signed.
      const { host: _signedHost, ...sent } = headers;
      const res = await postToProvider('aliyun', url, { headers: { ...sent, authorization }, body }, signal);
      if (res.status >= 500) throw new SmsSendError('unavailable', `aliyun: unexpected HTTP ${res.status}`);

      const answer = parseProviderJson('aliyun', res);
      const code = stringField(answer, 'Code');
      const requestId = stringField(answer, 'RequestId');
      if (!isRecord(answer) || code === undefined) {
        throw new SmsSendError('unavailable', `aliyun: HTTP ${res.status} without a Code`, { requestId });
      }
      if (code !== 'OK') {
        throw new SmsSendError(classifyAliyunCode(code), `aliyun: ${providerReason(stringField(answer, 'Message'))}`, {
          providerCode: code,
          requestId,
        });
      }
      const bizId = stringField(answer, 'BizId');
      if (!bizId) throw new SmsSendError('unavailable', 'aliyun: OK without a BizId', { requestId });
      return { providerMessageId: bizId };
    },
  } satisfies SmsProvider;
}
