import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { json, startFakeServer, type FakeServer } from './fake-server.js';

/** How the fake misbehaves until cleared. */
export type GeetestOutage = { http: number } | 'bad_body' | 'hang';

export interface FakeGeetestOptions {
  readonly captchaId: string;
  readonly captchaKey: string;
  readonly now?: () => number;
}

export interface GeetestPass {
  lot_number: string;
  captcha_output: string;
  pass_token: string;
  gen_time: string;
}

export interface FakeGeetest extends FakeServer {
  /** Forms of the validate calls received. */
  readonly calls: URLSearchParams[];
  /** The four values the widget hands the page after a pass; `expired` makes it older than a pass lives. */
  solve(options?: { expired?: boolean }): GeetestPass;
  setOutage(outage: GeetestOutage | undefined): void;
}

const PASS_TTL_MS = 5 * 60_000;

/**
 * A local stand-in for GeeTest v4's /validate. It checks captcha_id (status "error" when unknown)
 * and sign_token for real (HMAC-SHA256 of lot_number under the captcha key), then judges passes it
 * issued itself: result "success" once, "fail" with a reason for a forged, reused or expired one.
 */
export async function startFakeGeetest(options: FakeGeetestOptions): Promise<FakeGeetest> {
  const now = options.now ?? Date.now;
  const calls: URLSearchParams[] = [];
  const passes = new Map<string, { pass: GeetestPass; used: boolean }>();
  let outage: GeetestOutage | undefined;
  const fail = (reason: string) => json(200, { status: 'success', result: 'fail', reason, captcha_args: {} });

  const server = await startFakeServer((request) => {
    if (outage === 'hang') return 'hang';
    if (outage === 'bad_body') return { status: 200, body: '<html>gateway says hello</html>', contentType: 'text/html' };
    if (outage !== undefined) return { status: outage.http, body: 'upstream error' };
    const form = new URLSearchParams(request.body);
    calls.push(form);
    if (request.method !== 'POST' || request.url.pathname !== '/validate') return json(404, { status: 'error', code: '-404', msg: 'not found' });
    if (request.url.searchParams.get('captcha_id') !== options.captchaId) return json(200, { status: 'error', code: '-50005', msg: 'illegal captcha_id' });
    const lotNumber = form.get('lot_number') ?? '';
    const expected = Buffer.from(createHmac('sha256', options.captchaKey).update(lotNumber).digest('hex'));
    const given = Buffer.from(form.get('sign_token') ?? '');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return fail('sign_token error');
    const issued = passes.get(lotNumber);
    if (!issued || issued.pass.pass_token !== form.get('pass_token') || issued.pass.captcha_output !== form.get('captcha_output') || issued.pass.gen_time !== form.get('gen_time')) {
      return fail('pass_token error');
    }
    if (now() - Number(issued.pass.gen_time) * 1000 > PASS_TTL_MS) return fail('pass_token expire');
    if (issued.used) return fail('pass_token used');
    issued.used = true;
    return json(200, { status: 'success', result: 'success', reason: '', captcha_args: { used_type: 'slide', user_ip: '', lot_number: lotNumber } });
  });
  return {
    ...server,
    calls,
    solve({ expired = false } = {}) {
      const pass: GeetestPass = {
        lot_number: randomBytes(16).toString('hex'),
        captcha_output: randomBytes(96).toString('base64url'),
        pass_token: randomBytes(32).toString('hex'),
        gen_time: String(Math.floor((now() - (expired ? PASS_TTL_MS + 60_000 : 0)) / 1000)),
      };
      passes.set(pass.lot_number, { pass, used: false });
      return pass;
    },
    setOutage(next) {
      outage = next;
    },
  };
}
