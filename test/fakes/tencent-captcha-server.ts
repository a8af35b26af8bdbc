import { randomBytes, randomUUID } from 'node:crypto';
import { headerOf, tc3Refusal } from './tc3-verifier.js';
import { json, startFakeServer, type FakeOutcome, type FakeRequest, type FakeServer } from './fake-server.js';

/** How the fake misbehaves until cleared: an HTTP error, an unreadable body, silence, a request-level error, or a CaptchaCode for every ticket. */
export type TencentCaptchaOutage = { http: number } | 'bad_body' | 'hang' | { error: string } | { captchaCode: number };

export interface FakeTencentCaptchaOptions {
  readonly secretId: string;
  readonly secretKey: string;
  /** CaptchaAppId and its AppSecretKey. */
  readonly appId: number;
  readonly appSecretKey: string;
  readonly now?: () => number;
}

/** The fields of one DescribeCaptchaResult the fake received (after its signature checked out). */
export interface DescribeCaptchaResultCall {
  readonly CaptchaType: unknown;
  readonly Ticket: unknown;
  readonly Randstr: unknown;
  readonly UserIp: unknown;
  readonly CaptchaAppId: unknown;
  readonly AppSecretKey: unknown;
}

export interface FakeTencentCaptcha extends FakeServer {
  readonly calls: DescribeCaptchaResultCall[];
  /** What the widget hands the page after a solved challenge; `expired` makes it one older than Tencent's 5 minutes. */
  solve(options?: { expired?: boolean }): { ticket: string; randstr: string };
  setOutage(outage: TencentCaptchaOutage | undefined): void;
}

const TICKET_TTL_MS = 5 * 60_000;

/**
 * A local stand-in for Tencent Captcha's DescribeCaptchaResult (captcha 2019-07-22). It verifies the
 * TC3 signature as Tencent's SDK makes it (service captcha, host without port, 5-minute window),
 * then judges tickets it issued itself, with Tencent's CaptchaCode values: 1 OK, 7 randstr does
 * not match, 8 expired, 9 reused, 15 not a ticket it issued, 16 wrong CaptchaAppId, 100 wrong
 * AppSecretKey.
 */
export async function startFakeTencentCaptcha(options: FakeTencentCaptchaOptions): Promise<FakeTencentCaptcha> {
  const now = options.now ?? Date.now;
  const calls: DescribeCaptchaResultCall[] = [];
  const tickets = new Map<string, { randstr: string; issuedAt: number; used: boolean }>();
  let outage: TencentCaptchaOutage | undefined;

  const header = headerOf;
  const error = (code: string, message: string) => json(200, { Response: { Error: { Code: code, Message: message }, RequestId: randomUUID() } });
  const verdict = (code: number, msg: string) => json(200, { Response: { CaptchaCode: code, CaptchaMsg: msg, EvilLevel: 0, GetCaptchaTime: 0, RequestId: randomUUID() } });

  function authenticate(request: FakeRequest): FakeOutcome | undefined {
    const refusal = tc3Refusal(request, { secretId: options.secretId, secretKey: options.secretKey, service: 'captcha', nowMs: now() });
    return refusal && error(refusal.code, refusal.message);
  }

  function describe(request: FakeRequest): FakeOutcome {
    if (header(request, 'x-tc-action') !== 'DescribeCaptchaResult') return error('InvalidAction', 'The action does not exist.');
    if (header(request, 'x-tc-version') !== '2019-07-22') return error('NoSuchVersion', 'The API version does not exist.');
    const refused = authenticate(request);
    if (refused) return refused;
    if (outage !== undefined && typeof outage === 'object' && 'error' in outage) return error(outage.error, `told to fail with ${outage.error}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return error('InvalidParameter', 'The body is not JSON.');
    }
    calls.push({ CaptchaType: body.CaptchaType, Ticket: body.Ticket, Randstr: body.Randstr, UserIp: body.UserIp, CaptchaAppId: body.CaptchaAppId, AppSecretKey: body.AppSecretKey });
    if (outage !== undefined && typeof outage === 'object' && 'captchaCode' in outage) return verdict(outage.captchaCode, 'told to answer this code');
    if (body.CaptchaType !== 9 || typeof body.UserIp !== 'string' || body.UserIp === '') return error('InvalidParameter', 'CaptchaType must be 9 and UserIp is required.');
    if (body.CaptchaAppId !== options.appId) return verdict(16, 'appid-ticket mismatch');
    if (body.AppSecretKey !== options.appSecretKey) return verdict(100, 'appid-secretkey-ticket mismatch');
    const ticket = typeof body.Ticket === 'string' ? tickets.get(body.Ticket) : undefined;
    if (!ticket) return verdict(15, 'decrypt fail');
    if (ticket.randstr !== body.Randstr) return verdict(7, 'captcha no match');
    if (now() - ticket.issuedAt > TICKET_TTL_MS) return verdict(8, 'ticket expired');
    if (ticket.used) return verdict(9, 'ticket reused');
    ticket.used = true;
    return verdict(1, 'OK');
  }

  const server = await startFakeServer((request) => {
    if (outage === 'hang') return 'hang';
    if (outage === 'bad_body') return { status: 200, body: '<html>gateway says hello</html>', contentType: 'text/html' };
    if (outage !== undefined && typeof outage === 'object' && 'http' in outage) return { status: outage.http, body: 'upstream error' };
    return describe(request);
  });
  return {
    ...server,
    calls,
    solve({ expired = false } = {}) {
      const ticket = `t03${randomBytes(48).toString('base64url')}`;
      const randstr = `@${randomBytes(4).toString('hex')}`;
      tickets.set(ticket, { randstr, issuedAt: now() - (expired ? TICKET_TTL_MS + 60_000 : 0), used: false });
      return { ticket, randstr };
    },
    setOutage(next) {
      outage = next;
    },
  };
}
