import type { SmsProviderName } from '../../src/config.js';
import { startFakeAliyunSms } from '../fakes/aliyun-sms-server.js';
import { startFakeTencentSms } from '../fakes/tencent-sms-server.js';
import { startFakeTwilio } from '../fakes/twilio-server.js';

/** A failure the fake can be told to give, and the provider code it answers with. */
export type NumberFailureKind = 'invalid_number' | 'rate_limited' | 'rejected';
export type OutageKind = 'http_5xx' | 'bad_body' | 'hang' | 'rejected';

/** One real provider and its fake, as the conformance suite drives them. */
export interface ProviderHarness {
  readonly name: SmsProviderName;
  /** Env selecting this provider, pointed at the fake. */
  readonly env: Record<string, string>;
  /** The same with a wrong secret, and the code the provider answers it with. */
  readonly wrongKey: { env: Record<string, string>; providerCode: string };
  /** Env for this provider pointed at a port where nothing listens (a dead provider for failover). */
  readonly deadEnv: Record<string, string>;
  /** Per-number failures this provider can report at send time, with the provider's code for each. */
  readonly numberFailures: Partial<Record<NumberFailureKind, string>>;
  failNumber(phone: string, kind: NumberFailureKind | undefined): void;
  /** The provider code a request-level `rejected` outage answers with. */
  readonly rejectedCode: string;
  setOutage(kind: OutageKind | undefined): void;
  hungRequestClosed(): Promise<void>;
  requestCount(): number;
  /** The code in the last SMS the fake accepted for `phone`. */
  lastCode(phone: string): string;
  /** The provider's id of the last SMS the fake accepted for `phone`. */
  lastProviderMessageId(phone: string): string;
  /** Where and how this provider reports delivery, if it is one we take reports from. */
  readonly deliveryReports?: {
    readonly route: 'tencent' | 'aliyun';
    body(providerMessageId: string, delivered: boolean): unknown;
    readonly answer: unknown;
    /** The error code an undelivered report carries. */
    readonly undeliveredCode: string;
  };
  close(): Promise<void>;
}

const DEAD_ENDPOINT = 'http://127.0.0.1:1';

export async function tencentHarness(): Promise<ProviderHarness> {
  const settings = { secretId: 'AKIDtesttesttesttesttesttesttesttest', secretKey: 'test-secret-key-0123456789abcdef', sdkAppId: '1400006666', signName: '测试签名' };
  const fake = await startFakeTencentSms({ ...settings, templates: { '1110': 2 } });
  const env = {
    SMS_PROVIDER: 'tencent',
    TENCENTCLOUD_SECRET_ID: settings.secretId,
    TENCENTCLOUD_SECRET_KEY: settings.secretKey,
    TENCENT_SMS_SDK_APP_ID: settings.sdkAppId,
    TENCENT_SMS_SIGN_NAME: settings.signName,
    TENCENT_SMS_TEMPLATE_ID: '1110',
    TENCENT_SMS_ENDPOINT: fake.url,
  };
  const numberFailures = {
    invalid_number: 'InvalidParameterValue.IncorrectPhoneNumber',
    rate_limited: 'LimitExceeded.PhoneNumberDailyLimit',
    rejected: 'FailedOperation.InsufficientBalanceInSmsPackage',
  } as const;
  const rejectedCode = 'FailedOperation.TemplateIncorrectOrUnapproved';
  const last = (phone: string) => {
    const m = fake.accepted.filter((a) => a.phone === phone).at(-1);
    if (!m) throw new Error(`no SMS to ${phone}`);
    return m;
  };
  return {
    name: 'tencent',
    env,
    wrongKey: { env: { ...env, TENCENTCLOUD_SECRET_KEY: 'not-the-key-0123456789abcdef' }, providerCode: 'AuthFailure.SignatureFailure' },
    deadEnv: { ...env, TENCENT_SMS_ENDPOINT: DEAD_ENDPOINT },
    numberFailures,
    failNumber: (phone, kind) => fake.failNumber(phone, kind && numberFailures[kind]),
    rejectedCode,
    setOutage(kind) {
      fake.setOutage(kind === undefined ? undefined : kind === 'http_5xx' ? { http: 502 } : kind === 'rejected' ? { code: rejectedCode } : kind);
    },
    hungRequestClosed: fake.hungRequestClosed,
    requestCount: fake.requestCount,
    lastCode: (phone) => fake.lastCode(phone),
    lastProviderMessageId: (phone) => last(phone).serialNo,
    deliveryReports: {
      route: 'tencent',
      body: (id, delivered) => fake.statusReport(id, delivered),
      answer: { result: 0, errmsg: 'OK' },
      undeliveredCode: 'MK:0005',
    },
    close: fake.close,
  };
}

export async function aliyunHarness(): Promise<ProviderHarness> {
  const settings = { accessKeyId: 'LTAItesttesttesttest', accessKeySecret: 'test-access-key-secret-0123456789', signName: '阿里云短信测试' };
  const fake = await startFakeAliyunSms({ ...settings, templates: { SMS_154950909: ['code'] } });
  const env = {
    SMS_PROVIDER: 'aliyun',
    ALIBABA_CLOUD_ACCESS_KEY_ID: settings.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: settings.accessKeySecret,
    ALIYUN_SMS_SIGN_NAME: settings.signName,
    ALIYUN_SMS_TEMPLATE_CODE: 'SMS_154950909',
    ALIYUN_SMS_ENDPOINT: fake.url,
  };
  const numberFailures = {
    invalid_number: 'isv.MOBILE_NUMBER_ILLEGAL',
    rate_limited: 'isv.BUSINESS_LIMIT_CONTROL',
    rejected: 'isv.AMOUNT_NOT_ENOUGH',
  } as const;
  const rejectedCode = 'isv.SMS_TEMPLATE_ILLEGAL';
  const last = (phone: string) => {
    const m = fake.accepted.filter((a) => a.phone === phone).at(-1);
    if (!m) throw new Error(`no SMS to ${phone}`);
    return m;
  };
  return {
    name: 'aliyun',
    env,
    wrongKey: { env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret-0123456789' }, providerCode: 'SignatureDoesNotMatch' },
    deadEnv: { ...env, ALIYUN_SMS_ENDPOINT: DEAD_ENDPOINT },
    numberFailures,
    failNumber: (phone, kind) => fake.failNumber(phone, kind && numberFailures[kind]),
    rejectedCode,
    setOutage(kind) {
      fake.setOutage(kind === undefined ? undefined : kind === 'http_5xx' ? { http: 503 } : kind === 'rejected' ? { code: rejectedCode } : kind);
    },
    hungRequestClosed: fake.hungRequestClosed,
    requestCount: fake.requestCount,
    lastCode: (phone) => fake.lastCode(phone),
    lastProviderMessageId: (phone) => last(phone).bizId,
    deliveryReports: {
      route: 'aliyun',
      body: (id, delivered) => fake.statusReport(id, delivered),
      answer: { code: 0, msg: '接收成功' },
      undeliveredCode: 'MK:0005',
    },
    close: fake.close,
  };
}

export async function twilioHarness(): Promise<ProviderHarness> {
  const settings = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, authToken: 'test-auth-token-0123456789abcdef', from: '+15005550006' };
  const fake = await startFakeTwilio(settings);
  const env = {
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: settings.accountSid,
    TWILIO_AUTH_TOKEN: settings.authToken,
    TWILIO_FROM: settings.from,
    TWILIO_API_BASE: fake.url,
  };
  // Twilio reports no per-number frequency limit when a message is created.
  const numberFailures = { invalid_number: '21614', rejected: '21408' } as const;
  const rejectedCode = '21606';
  const last = (phone: string) => {
    const m = fake.accepted.filter((a) => a.to === phone).at(-1);
    if (!m) throw new Error(`no SMS to ${phone}`);
    return m;
  };
  return {
    name: 'twilio',
    env,
    wrongKey: { env: { ...env, TWILIO_AUTH_TOKEN: 'not-the-token-0123456789' }, providerCode: '20003' },
    deadEnv: { ...env, TWILIO_API_BASE: DEAD_ENDPOINT },
    numberFailures,
    failNumber(phone, kind) {
      const code = kind === undefined || kind === 'rate_limited' ? undefined : numberFailures[kind];
      fake.failNumber(phone, code === undefined ? undefined : { status: 400, code: Number(code) });
    },
    rejectedCode,
    setOutage(kind) {
      fake.setOutage(kind === undefined ? undefined : kind === 'http_5xx' ? { http: 500 } : kind === 'rejected' ? { status: 400, code: 21606 } : kind);
    },
    hungRequestClosed: fake.hungRequestClosed,
    requestCount: fake.requestCount,
    lastCode: (phone) => fake.lastCode(phone),
    lastProviderMessageId: (phone) => last(phone).sid,
    close: fake.close,
  };
}
