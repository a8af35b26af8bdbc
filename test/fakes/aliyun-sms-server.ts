import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { acs3CanonicalRequest, acs3ContentSha256, acs3Signature, acs3SignedHeaderNames, parseAcs3Authorization } from '../../src/sms/aliyun-signer.js';
import { json, startFakeServer, type FakeOutcome, type FakeRequest, type FakeServer } from './fake-server.js';

/** One message the fake accepted. */
export interface AcceptedAliyunSms {
  /** E.164, rebuilt from PhoneNumbers. */
  readonly phone: string;
  readonly signName: string;
  readonly templateCode: string;
  readonly params: Record<string, unknown>;
  readonly outId: string | undefined;
  readonly bizId: string;
}

/** How the whole fake misbehaves until cleared. `code` answers HTTP 200 with that business Code. */
export type AliyunOutage = { http: number } | 'bad_body' | 'hang' | { code: string };

export interface FakeAliyunOptions {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly signName: string;
  /** Approved templates: code → the variables it takes. */
  readonly templates: Readonly<Record<string, readonly string[]>>;
  readonly now?: () => number;
}

export interface FakeAliyunSms extends FakeServer {
  readonly accepted: AcceptedAliyunSms[];
  lastCode(phone: string): string;
  /** Answer this business Code (e.g. isv.BUSINESS_LIMIT_CONTROL) for `phone` (E.164); undefined clears it. */
  failNumber(phone: string, code: string | undefined): void;
  setOutage(outage: AliyunOutage | undefined): void;
  /** Aliyun's SmsReport push body for an accepted message. */
  statusReport(bizId: string, delivered: boolean): unknown[];
}

/** Aliyun accepts a timestamp up to 15 minutes off. */
const WINDOW_MS = 15 * 60 * 1000;

const toE164 = (n: string) => (/^1\d{10}$/.test(n) ? `+86${n}` : `+${n}`);

/**
 * A local stand-in for Dysmsapi SendSms (2017-05-25). It verifies signature V3 (ACS3-HMAC-SHA256)
 * for real: the canonical request rebuilt from the headers, query and body bytes received, every
 * x-acs-* header signed, the body hash checked; it refuses reused nonces and stale dates, and answers like Aliyun: 4xx with a Code for auth errors, 200 with a Code for
 * business errors.
 */
export async function startFakeAliyunSms(options: FakeAliyunOptions): Promise<FakeAliyunSms> {
  const now = options.now ?? Date.now;
  const accepted: AcceptedAliyunSms[] = [];
  const numberFailures = new Map<string, string>();
  const nonces = new Set<string>();
  let outage: AliyunOutage | undefined;

  const answer = (status: number, code: string, message: string) => json(status, { Code: code, Message: message, RequestId: randomUUID() });

  function sendSms(request: FakeRequest): FakeOutcome {
    const params: Record<string, string> = Object.fromEntries(request.url.searchParams);
    if (request.method === 'POST') {
      if (!/^application\/x-www-form-urlencoded/i.test(String(request.headers['content-type'] ?? ''))) {
        return answer(400, 'InvalidParameter', 'The body must be a form.');
      }
      Object.assign(params, Object.fromEntries(new URLSearchParams(request.body)));
    }
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    };
    const auth = parseAcs3Authorization(header('authorization') ?? '');
    if (!auth) return answer(400, 'MissingAuthorization', 'An ACS3-HMAC-SHA256 Authorization header is required.');
    if (auth.accessKeyId !== options.accessKeyId) return answer(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    const date = header('x-acs-date') ?? '';
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(date) || Math.abs(now() - Date.parse(date)) > WINDOW_MS) {
      return answer(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
    // Every x-acs-* header, host and content-type that was sent must be signed.
    const sent: Record<string, string> = {};
    for (const name of Object.keys(request.headers)) sent[name] = header(name) ?? '';
    const mustSign = acs3SignedHeaderNames(sent);
    if (mustSign.some((n) => !auth.signedHeaders.includes(n)) || auth.signedHeaders.join(';') !== [...auth.signedHeaders].sort().join(';')) {
      return answer(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    }
    if (header('x-acs-content-sha256') !== acs3ContentSha256(request.body)) {
      return answer(400, 'ContentSHA256NotMatch', 'The x-acs-content-sha256 header does not match the body.');
    }
    const canonical = acs3CanonicalRequest(
      { method: request.method, path: request.url.pathname, query: Object.fromEntries(request.url.searchParams), headers: sent, body: request.body },
      auth.signedHeaders,
    );
    const expected = Buffer.from(acs3Signature(options.accessKeySecret, canonical));
    const given = Buffer.from(auth.signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return answer(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    }
    const nonce = header('x-acs-signature-nonce');
    if (!nonce || nonces.has(nonce)) return answer(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.add(nonce);
    if (header('x-acs-action') !== 'SendSms' || header('x-acs-version') !== '2017-05-25') return answer(404, 'InvalidAction.NotFound', 'Specified api is not found.');
    if (outage !== undefined && typeof outage === 'object' && 'code' in outage) return answer(200, outage.code, `told to fail with ${outage.code}`);

    if (params.SignName !== options.signName) return answer(200, 'isv.SMS_SIGNATURE_ILLEGAL', 'The signature is not approved.');
    const variables = options.templates[params.TemplateCode ?? ''];
    if (!variables) return answer(200, 'isv.SMS_TEMPLATE_ILLEGAL', 'The template is not approved.');
    let templateParams: Record<string, unknown>;
    try {
      templateParams = JSON.parse(params.TemplateParam ?? '') as Record<string, unknown>;
    } catch {
      return answer(200, 'isv.INVALID_JSON_PARAM', 'TemplateParam is not JSON.');
    }
    if (variables.some((v) => typeof templateParams[v] !== 'string')) {
      return answer(200, 'isv.TEMPLATE_MISSING_PARAMETERS', 'TemplateParam lacks a variable of the template.');
    }
    const number = params.PhoneNumbers ?? '';
    if (!/^\d{7,15}$/.test(number)) return answer(200, 'isv.MOBILE_NUMBER_ILLEGAL', 'The phone number is illegal.');
    const phone = toE164(number);
    const failure = numberFailures.get(phone);
    if (failure) return answer(200, failure, `told to fail with ${failure}`);
    const bizId = `${randomInt(1e8, 1e9 - 1)}${randomInt(1e8, 1e9 - 1)}^0`;
    accepted.push({ phone, signName: params.SignName, templateCode: params.TemplateCode ?? '', params: templateParams, outId: params.OutId, bizId });
    return json(200, { Code: 'OK', Message: 'OK', BizId: bizId, RequestId: randomUUID() });
  }

  const server = await startFakeServer((request) => {
    if (outage === 'hang') return 'hang';
    if (outage === 'bad_body') return { status: 200, body: '<html>gateway says hello</html>', contentType: 'text/html' };
    if (outage !== undefined && typeof outage === 'object' && 'http' in outage) return { status: outage.http, body: 'upstream error' };
    return sendSms(request);
  });

  return {
    ...server,
    accepted,
    lastCode(phone) {
      const code = accepted.filter((m) => m.phone === phone).at(-1)?.params.code;
      if (typeof code !== 'string') throw new Error(`the fake Aliyun accepted no SMS for ${phone}`);
      return code;
    },
    failNumber(phone, code) {
      if (code === undefined) numberFailures.delete(phone);
      else numberFailures.set(phone, code);
    },
    setOutage(next) {
      outage = next;
    },
    statusReport(bizId, delivered) {
      const message = accepted.find((m) => m.bizId === bizId);
      return [
        {
          phone_number: message?.phone.replace(/^\+86/, '') ?? '',
          send_time: '2026-01-01 11:12:13',
          report_time: '2026-01-01 11:12:20',
          success: delivered,
          err_code: delivered ? 'DELIVERED' : 'MK:0005',
          err_msg: delivered ? '用户接收成功' : '用户接收失败',
          sms_size: '1',
          biz_id: bizId,
          out_id: message?.outId ?? '',
        },
      ];
    },
  };
}
