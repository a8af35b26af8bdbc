import { z } from 'zod';
import type { Purpose } from '../config.js';
import { SmsSendError, type SmsFailureKind, type SmsProvider } from './provider.js';
import { isRecord, parseProviderJson, postToProvider, providerReason, stringField } from './provider-http.js';
import { tencentApiHeaders } from './tencent-signer.js';

/** Settings of tencentSmsProvider, named after the env vars they come from. */
export interface TencentSmsOptions {
  /** TENCENTCLOUD_SECRET_ID */
  readonly secretId: string | undefined;
  /** TENCENTCLOUD_SECRET_KEY */
  readonly secretKey: string | undefined;
  /** TENCENT_SMS_SDK_APP_ID */
  readonly sdkAppId: string | undefined;
  /** TENCENT_SMS_SIGN_NAME */
  readonly signName: string | undefined;
  /** TENCENT_SMS_TEMPLATE_ID: the template for purposes without their own. */
  readonly templateId: string | undefined;
  /** TENCENT_SMS_TEMPLATE_ID_REGISTER, …: per-purpose templates. */
  readonly templateIds?: Readonly<Partial<Record<Purpose, string>>>;
  /** TENCENT_SMS_INTL_SIGN_NAME: the signature for numbers outside +86, when Tencent asks for one. */
  readonly intlSignName?: string | undefined;
  /** TENCENT_SMS_INTL_TEMPLATE_ID: the approved international template, used for every number outside +86. */
  readonly intlTemplateId?: string | undefined;
  /** TENCENT_SMS_REGION, e.g. ap-guangzhou. */
  readonly region: string;
  /** TENCENT_SMS_ENDPOINT, e.g. https://sms.tencentcloudapi.com */
  readonly endpoint: string;
  /** Clock for X-TC-Timestamp; Tencent refuses signatures more than 5 minutes off. */
  readonly now?: () => number;
}

const SERVICE = 'sms';
const VERSION = '2021-01-11';

/** Tencent's verdicts about the number itself: another provider would get the same answer. */
const INVALID_NUMBER = new Set([
  'InvalidParameterValue.IncorrectPhoneNumber',
  'FailedOperation.PhoneNumberInBlacklist',
  'FailedOperation.PhoneNumberParseFail',
]);

/** Tencent's per-number frequency limits. */
const RATE_LIMITED = new Set([
  'LimitExceeded.PhoneNumberThirtySecondLimit',
  'LimitExceeded.PhoneNumberOneHourLimit',
  'LimitExceeded.PhoneNumberDailyLimit',
  'LimitExceeded.PhoneNumberSameContentDailyLimit',
  'LimitExceeded.DeliveryFrequencyLimit',
]);

/**
 * Which kind of failure a Tencent error code is. Their own faults and API throttling are
 * `unavailable`; auth, template, signature, balance and every code we do not know are `rejected`,
 * so an unknown code is never mistaken for a verdict about the number.
 */
export function classifyTencentCode(code: string): SmsFailureKind {
  if (INVALID_NUMBER.has(code)) return 'invalid_number';
  if (RATE_LIMITED.has(code)) return 'rate_limited';
  if (code.startsWith('InternalError') || code === 'RequestLimitExceeded' || code.startsWith('ResourceUnavailable')) return 'unavailable';
  return 'rejected';
}

/** Mainland China numbers take the domestic signature and templates; every other number (Hong Kong and Macau too) the international ones. */
const isMainland = (e164: string) => e164.startsWith('+86');

/** Tencent's own settings beyond the shared API key and domestic templates (STYLE: a provider owns its settings). */
export const tencentIntlSettings = {
  /** Signature for numbers outside +86, sent as SignName when set (Tencent's international SMS takes one only for some destinations). */
  TENCENT_SMS_INTL_SIGN_NAME: z.string().min(1).optional(),
  /** Approved international template (a parameter for the code, one for the minutes), used for every number outside +86. */
  TENCENT_SMS_INTL_TEMPLATE_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric template id' }).optional(),
};

function required(value: string | undefined, envVar: string): string {
  if (!value) throw new Error(`Tencent SMS: ${envVar} is not set; set it to enable SMS_PROVIDER=tencent`);
  return value;
}

/**
 * Tencent Cloud SMS, SendSms of API 2021-01-11, signed with TC3-HMAC-SHA256 exactly as Tencent's
 * SDK signs (content-type and host): test/sms/tencent-signer.test.ts reproduces the published
 * example, test/sms/tencent-sdk-parity.test.ts compares with the SDK's own signer.
 * The template takes two parameters, the code and its lifetime in minutes.
 *
 * @example
 * const sms = tencentSmsProvider({ secretId, secretKey, sdkAppId: '1400006666', signName: '腾讯云',
 *   templateId: '1110', region: 'ap-guangzhou', endpoint: 'https://sms.tencentcloudapi.com' });
 */
export function tencentSmsProvider(options: TencentSmsOptions) {
  const credentials = {
    secretId: required(options.secretId, 'TENCENTCLOUD_SECRET_ID'),
    secretKey: required(options.secretKey, 'TENCENTCLOUD_SECRET_KEY'),
  };
  const sdkAppId = required(options.sdkAppId, 'TENCENT_SMS_SDK_APP_ID');
  const signName = required(options.signName, 'TENCENT_SMS_SIGN_NAME');
  const templateIds = options.templateIds ?? {};
  const fallbackTemplate = options.templateId;
  const missingTemplate = (['register', 'login', 'reset_password', 'change_phone'] as const).some((p) => !templateIds[p]);
  if (missingTemplate) required(fallbackTemplate, 'TENCENT_SMS_TEMPLATE_ID');
  const url = new URL(options.endpoint);
  const now = options.now ?? Date.now;

  const refusesDestination = (to: string) =>
    isMainland(to) || options.intlTemplateId
      ? undefined
      : 'tencent: TENCENT_SMS_INTL_TEMPLATE_ID is not set, and Tencent sends numbers outside +86 only with an approved international template';

  return {
    name: 'tencent',
    sendsNotices: false,
    refusesDestination,
    async send(message, signal) {
      // Template providers can only fill a verification template; a notice sent through it would
      // read "your code is ," — refuse it so failover can try a free-text provider instead.
      if (message.kind === 'notice') throw new SmsSendError('rejected', 'tencent: notices (no code) need a free-text provider');
      const refusal = refusesDestination(message.to);
      if (refusal) throw new SmsSendError('rejected', refusal);
      // Tencent sends a number outside mainland China only with an international template; a
      // domestic one is refused for it (and the reverse).
      const domestic = isMainland(message.to);
      const body = JSON.stringify({
        PhoneNumberSet: [message.to],
        SmsSdkAppId: sdkAppId,
        ...(domestic ? { SignName: signName } : options.intlSignName ? { SignName: options.intlSignName } : {}),
        TemplateId: domestic ? (templateIds[message.purpose] ?? fallbackTemplate) : options.intlTemplateId,
        TemplateParamSet: [message.code, String(message.ttlMinutes)],
        SessionContext: message.messageId,
      });
      const headers = tencentApiHeaders(credentials, {
        endpoint: url.href,
        service: SERVICE,
        action: 'SendSms',
        version: VERSION,
        region: options.region,
        timestamp: Math.floor(now() / 1000),
        body,
      });
      const res = await postToProvider('tencent', url.href, { headers, body }, signal);
      if (res.status !== 200) throw new SmsSendError('unavailable', `tencent: unexpected HTTP ${res.status}`);

      const response = (parseProviderJson('tencent', res) as { Response?: unknown }).Response;
      if (!isRecord(response)) throw new SmsSendError('unavailable', 'tencent: answer without a Response object');
      const requestId = stringField(response, 'RequestId');
      const error = response.Error;
      if (error !== undefined) {
        // The request failed as a whole: auth, parameters, the account.
        const code = stringField(error, 'Code') ?? 'Unknown';
        throw new SmsSendError(classifyTencentCode(code), `tencent: ${providerReason(stringField(error, 'Message'))}`, {
          providerCode: code,
          requestId,
        });
      }
      const status = Array.isArray(response.SendStatusSet) ? (response.SendStatusSet[0] as unknown) : undefined;
      const code = stringField(status, 'Code');
      if (!isRecord(status) || code === undefined) {
        throw new SmsSendError('unavailable', 'tencent: answer without a SendStatusSet entry', { requestId });
      }
      if (code !== 'Ok') {
        // Accepted as a request, refused for this number.
        throw new SmsSendError(classifyTencentCode(code), `tencent: ${providerReason(stringField(status, 'Message'))}`, {
          providerCode: code,
          requestId,
        });
      }
      const fee = typeof status.Fee === 'number' ? status.Fee : undefined;
      return { providerMessageId: stringField(status, 'SerialNo'), ...(fee === undefined ? {} : { fee }) };
    },
  } satisfies SmsProvider;
}
