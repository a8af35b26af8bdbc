import { randomInt, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { headerOf, tc3Refusal } from './tc3-verifier.js';
import { json, startFakeServer, type FakeOutcome, type FakeRequest, type FakeServer } from './fake-server.js';

/** One message the fake accepted, as Tencent would have delivered it. */
export interface AcceptedTencentSms {
  readonly phone: string;
  readonly signName: string;
  readonly templateId: string;
  readonly params: string[];
  readonly sessionContext: string | undefined;
  readonly serialNo: string;
}

/** How the whole fake misbehaves until cleared: an HTTP error, an unreadable body, a request-level error code, or silence. */
export type TencentOutage = { http: number } | 'bad_body' | 'hang' | { code: string };

export interface FakeTencentOptions {
  readonly secretId: string;
  readonly secretKey: string;
  readonly sdkAppId: string;
  readonly signName: string;
  /** Approved templates: id → number of parameters it takes. */
  readonly templates: Readonly<Record<string, number>>;
  /** Approved international templates (numbers outside +86), and their signature if they take one. */
  readonly intlTemplates?: Readonly<Record<string, number>>;
  readonly intlSignName?: string;
  readonly port?: number;
  /** The server's clock for the 5-minute signature window. */
  readonly now?: () => number;
}

export interface FakeTencentSms extends FakeServer {
  readonly accepted: AcceptedTencentSms[];
  /** The first template parameter (the code) of the last message to `phone`. */
  lastCode(phone: string): string;
  /** Answer this per-number Code (e.g. LimitExceeded.PhoneNumberDailyLimit) for `phone`; undefined clears it. */
  failNumber(phone: string, code: string | undefined): void;
  setOutage(outage: TencentOutage | undefined): void;
  /** Tencent's status callback body for an accepted message. */
  statusReport(serialNo: string, delivered: boolean): unknown[];
}

/**
 * A local stand-in for Tencent Cloud SMS SendSms (2021-01-11). It verifies TC3-HMAC-SHA256 for
 * real: the canonical request rebuilt from the headers and bytes received, the TC3 key chain over
 * date, service and tc3_request, and a 5-minute timestamp window. Answers follow Tencent's shapes:
 * HTTP 200 with Response.Error for a failed request, SendStatusSet[i].Code for a failed number.
 */
export async function startFakeTencentSms(options: FakeTencentOptions): Promise<FakeTencentSms> {
  const now = options.now ?? Date.now;
  const accepted: AcceptedTencentSms[] = [];
  const numberFailures = new Map<string, string>();
  let outage: TencentOutage | undefined;

  const fail = (code: string, message: string) => json(200, { Response: { Error: { Code: code, Message: message }, RequestId: randomUUID() } });
  const header = headerOf;
  function authenticate(request: FakeRequest): FakeOutcome | undefined {
    const refusal = tc3Refusal(request, { secretId: options.secretId, secretKey: options.secretKey, service: 'sms', nowMs: now() });
    return refusal && fail(refusal.code, refusal.message);
  }

  function sendSms(request: FakeRequest): FakeOutcome {
    if (request.method !== 'POST') return fail('UnsupportedProtocol', 'Only POST is supported by this fake.');
    if (!/^application\/json/i.test(header(request, 'content-type') ?? '')) return fail('InvalidParameter', 'Content-Type must be application/json.');
    if (header(request, 'x-tc-action') !== 'SendSms') return fail('InvalidAction', 'The action does not exist.');
    if (header(request, 'x-tc-version') !== '2021-01-11') return fail('NoSuchVersion', 'The API version does not exist.');
    if (!header(request, 'x-tc-region')) return fail('InvalidParameter.MissingRegion', 'X-TC-Region is required.');
    const refused = authenticate(request);
    if (refused) return refused;
    if (outage !== undefined && typeof outage === 'object' && 'code' in outage) return fail(outage.code, `told to fail with ${outage.code}`);

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return fail('FailedOperation.JsonParseFail', 'The request body is not JSON.');
    }
    if (body.SmsSdkAppId !== options.sdkAppId) return fail('InvalidParameterValue.SdkAppIdNotExist', 'SdkAppId does not exist.');
    // Numbers outside +86 take the international signature and templates, and only those.
    const international = Array.isArray(body.PhoneNumberSet) && typeof body.PhoneNumberSet[0] === 'string' && !body.PhoneNumberSet[0].startsWith('+86');
    if (body.SignName !== (international ? options.intlSignName : options.signName)) {
      return fail('FailedOperation.SignatureIncorrectOrUnapproved', 'The signature is not approved.');
    }
    const templateId = typeof body.TemplateId === 'string' ? body.TemplateId : '';
    const paramCount = (international ? (options.intlTemplates ?? {}) : options.templates)[templateId];
    if (paramCount === undefined) return fail('FailedOperation.TemplateIncorrectOrUnapproved', 'The template is not approved.');
    const params = body.TemplateParamSet;
    if (!Array.isArray(params) || params.length !== paramCount || !params.every((p) => typeof p === 'string')) {
      return fail('FailedOperation.TemplateParamSetNotMatchApprovedTemplate', 'TemplateParamSet does not match the template.');
    }
    const phones = body.PhoneNumberSet;
    if (!Array.isArray(phones) || phones.length === 0 || !phones.every((p) => typeof p === 'string')) {
      return fail('InvalidParameterValue.IncorrectPhoneNumber', 'PhoneNumberSet is missing.');
    }
    const sessionContext = typeof body.SessionContext === 'string' ? body.SessionContext : undefined;
    const SendStatusSet = (phones as string[]).map((phone) => {
      const failure = /^\+\d{7,15}$/.test(phone) ? numberFailures.get(phone) : 'InvalidParameterValue.IncorrectPhoneNumber';
      if (failure) {
        return { SerialNo: '', PhoneNumber: phone, Fee: 0, SessionContext: sessionContext ?? '', Code: failure, Message: `told to fail with ${failure}`, IsoCode: '' };
      }
      const serialNo = `2433:${randomInt(1e9, 1e10 - 1)}${randomInt(1e9, 1e10 - 1)}`;
      accepted.push({ phone, signName: typeof body.SignName === 'string' ? body.SignName : '', templateId, params: params as string[], sessionContext, serialNo });
      return { SerialNo: serialNo, PhoneNumber: phone, Fee: 1, SessionContext: sessionContext ?? '', Code: 'Ok', Message: 'send success', IsoCode: phone.startsWith('+86') ? 'CN' : '' };
    });
    return json(200, { Response: { SendStatusSet, RequestId: randomUUID() } });
  }

  const server = await startFakeServer((request) => {
    if (outage === 'hang') return 'hang';
    if (outage === 'bad_body') return { status: 200, body: '<html>gateway says hello</html>', contentType: 'text/html' };
    if (outage !== undefined && typeof outage === 'object' && 'http' in outage) return { status: outage.http, body: 'upstream error' };
    return sendSms(request);
  }, options.port);

  return {
    ...server,
    accepted,
    lastCode(phone) {
      const last = accepted.filter((m) => m.phone === phone).at(-1);
      if (!last?.params[0]) throw new Error(`the fake Tencent accepted no SMS for ${phone}`);
      return last.params[0];
    },
    failNumber(phone, code) {
      if (code === undefined) numberFailures.delete(phone);
      else numberFailures.set(phone, code);
    },
    setOutage(next) {
      outage = next;
    },
    statusReport(serialNo, delivered) {
      const message = accepted.find((m) => m.serialNo === serialNo);
      return [
        {
          user_receive_time: '2026-01-01 08:03:04',
          nationcode: '86',
          mobile: message?.phone.replace(/^\+86/, '') ?? '',
          report_status: delivered ? 'SUCCESS' : 'FAIL',
          errmsg: delivered ? 'DELIVRD' : 'MK:0005',
          description: delivered ? '用户短信送达成功' : '用户短信送达失败',
          sid: serialNo,
        },
      ];
    },
  };
}

// `npm run fake:tencent`: a fake to point a development server at, printing what it accepts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const options = {
    secretId: env.TENCENTCLOUD_SECRET_ID ?? 'AKIDfakefakefakefakefakefakefake',
    secretKey: env.TENCENTCLOUD_SECRET_KEY ?? 'fake-secret-key-fake-secret-key',
    sdkAppId: env.TENCENT_SMS_SDK_APP_ID ?? '1400000000',
    signName: env.TENCENT_SMS_SIGN_NAME ?? 'sms-verify',
    templates: { [env.TENCENT_SMS_TEMPLATE_ID ?? '100001']: 2 },
    port: Number(env.FAKE_TENCENT_PORT ?? 0),
  };
  const fake = await startFakeTencentSms(options);
  const accepted = fake.accepted;
  const push = accepted.push.bind(accepted);
  accepted.push = (...items) => {
    for (const m of items) process.stdout.write(`accepted ${JSON.stringify(m)}\n`);
    return push(...items);
  };
  process.stdout.write(
    [
      `fake Tencent SendSms listening on ${fake.url}`,
      'Start the service with:',
      `  SMS_PROVIDER=tencent TENCENT_SMS_ENDPOINT=${fake.url} TENCENTCLOUD_SECRET_ID=${options.secretId} \\`,
      `  TENCENTCLOUD_SECRET_KEY=${options.secretKey} TENCENT_SMS_SDK_APP_ID=${options.sdkAppId} \\`,
      `  TENCENT_SMS_SIGN_NAME=${options.signName} TENCENT_SMS_TEMPLATE_ID=${Object.keys(options.templates)[0]} npm start`,
      '',
    ].join('\n'),
  );
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
