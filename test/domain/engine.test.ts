import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createAuditLog, type AuditEvent } from '../../src/domain/audit.js';
import { createHasher } from '../../src/domain/codes.js';
import { createVerificationEngine, type IssueRequest, type VerificationPolicy } from '../../src/domain/engine.js';
import { AppError } from '../../src/domain/errors.js';
import type { E164 } from '../../src/domain/phone.js';
import type { CodeApprovedEvent, CodeSentEvent, PendingCode } from '../../src/domain/ports.js';
import { memoryAdmission } from '../../src/stores/memory-admission.js';
import { memoryCodeStore } from '../../src/stores/memory-store.js';
import { fakeClock, TEST_SECRET } from '../helpers/app.js';
import { silentLog } from '../helpers/backends.js';
import { recordingSmsProvider } from '../helpers/fake-sms.js';

/** The engine alone, on in-memory ports: no HTTP, no database. */
function engineUnderTest(env: Record<string, string> = {}) {
  const config = loadConfig({ SECRET: TEST_SECRET, ...env });
  const clock = fakeClock();
  const sms = recordingSmsProvider();
  const audit: AuditEvent[] = [];
  const sent: CodeSentEvent[] = [];
  const approved: CodeApprovedEvent[] = [];
  // One map for the code store and the admission step, as services.ts shares one store.
  const codes = new Map<string, PendingCode>();
  const engine = createVerificationEngine({
    codes: memoryCodeStore(codes),
    sms,
    hasher: createHasher(TEST_SECRET),
    admission: memoryAdmission(config.limits, { codes }),
    audit: createAuditLog({ insert: async (e) => void audit.push(e), listForUser: async () => [] }, clock.now, silentLog),
    events: {
      codeSent: (e) => void sent.push(e),
      codeApproved: (e) => void approved.push(e),
    },
    settings: { providerTimeoutMs: 1000, allowedCountries: config.limits.allowedCountries, prefixDigits: 7, testPhoneNumbers: config.testPhoneNumbers },
    now: clock.now,
    log: silentLog,
  });
  return { engine, sms, clock, audit, sent, approved };
}

const PHONE = '+8613800138000' as E164;
const POLICY: VerificationPolicy = { codeLength: 6, ttlSeconds: 300, resendCooldownSeconds: 60, maxAttempts: 5 };
const CLIENT = { ip: '192.0.2.10' };
const issue = (extra: Partial<IssueRequest> = {}): IssueRequest => ({
  scope: 'test-scope',
  phone: PHONE,
  policy: POLICY,
  client: CLIENT,
  message: (code) => ({ purpose: 'login', text: `code ${code}` }),
  ...extra,
});
const check = (code: string, extra: { scope?: string; binding?: string } = {}) => ({
  scope: 'test-scope',
  phone: PHONE,
  code,
  maxAttempts: 5,
  client: CLIENT,
  ...extra,
});
const errorOf = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as AppError;

describe('verification engine (in-memory ports)', () => {
  it('issues a CSPRNG code of the policy length, checks it once, and tells the observers once each', async () => {
    const { engine, sms, sent, approved } = engineUnderTest();
    const issued = await engine.issue(issue({ policy: { ...POLICY, codeLength: 8 } }));
    expect(issued).toMatchObject({ expiresIn: 300, resendAfter: 60 });
    const code = sms.lastCode(PHONE);
    expect(code).toMatch(/^\d{8}$/);
    expect(issued.handle).not.toContain(code);
    await engine.check(check(code));
    expect((await errorOf(engine.check(check(code)))).code).toBe('code_invalid');
    expect(sent).toHaveLength(1);
    expect(approved).toEqual([expect.objectContaining({ scope: 'test-scope', phone: PHONE })]);
  });

  it('one winner among concurrent checks of the right code', async () => {
    const { engine, sms, approved } = engineUnderTest();
    await engine.issue(issue());
    const code = sms.lastCode(PHONE);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => engine.check(check(code))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(approved).toHaveLength(1);
  });

  it('a code is bound to its scope and binding', async () => {
    const { engine, sms } = engineUnderTest();
    await engine.issue(issue({ binding: 'pay 10 to A' }));
    const code = sms.lastCode(PHONE);
    expect((await errorOf(engine.check(check(code, { scope: 'other-scope' })))).code).toBe('code_invalid');
    expect((await errorOf(engine.check(check(code, { binding: 'pay 1000 to A' })))).details.attemptsLeft).toBe(4);
    await engine.check(check(code, { binding: 'pay 10 to A' }));
  });

  it('a failed SMS leaves no valid code and no cooldown, and gives the limit points back', async () => {
    const { engine, sms, sent } = engineUnderTest({ SMS_PER_PHONE_HOURLY: '1' });
    sms.failWith('unavailable');
    expect((await errorOf(engine.issue(issue()))).code).toBe('sms_send_failed');
    sms.failWith(undefined);
    // No pending code at all (a wrong guess at a pending one would report attempts left).
    const missing = await errorOf(engine.check(check('000000')));
    expect([missing.code, missing.details.attemptsLeft]).toEqual(['code_invalid', undefined]);
    await engine.issue(issue());
    expect(sent).toHaveLength(1);
  });

  it('the wrong-code budget survives resends', async () => {
    const { engine, sms, clock } = engineUnderTest({ FAILED_CHECKS_PER_PHONE_HOURLY: '3' });
    await engine.issue(issue());
    for (let i = 0; i < 3; i++) await errorOf(engine.check(check('000000')));
    clock.advance(61_000);
    await engine.issue(issue());
    const locked = await errorOf(engine.check(check(sms.lastCode(PHONE))));
    expect([locked.code, locked.reason]).toEqual(['rate_limited', 'wrong_code_lockout']);
  });

  it('refusals say which rule refused: cooldown, sends per verification, region', async () => {
    const { engine, clock } = engineUnderTest({ SMS_ALLOWED_COUNTRIES: 'CN' });
    await engine.issue(issue());
    expect((await errorOf(engine.issue(issue()))).reason).toBe('cooldown');
    clock.advance(61_000);
    expect((await errorOf(engine.issue(issue({ policy: { ...POLICY, maxSends: 2 }, sendsSoFar: 2 })))).reason).toBe('max_sends');
    expect((await errorOf(engine.issue(issue({ phone: '+14155550123' as E164 })))).code).toBe('region_not_allowed');
  });

  it("the client's admission runs before the store is touched; its refusal spends nothing", async () => {
    const { engine, sms } = engineUnderTest({ SMS_PER_PHONE_HOURLY: '1' });
    const refuse = async (): Promise<never> => {
      throw new AppError('captcha_invalid');
    };
    for (let i = 0; i < 3; i++) expect((await errorOf(engine.issue(issue({ admit: refuse })))).code).toBe('captcha_invalid');
    await engine.issue(issue());
    expect(sms.sent).toHaveLength(1);
  });

  it('cancel withdraws the pending code; a throwing observer changes no outcome', async () => {
    const { engine, sms } = engineUnderTest();
    const issued = await engine.issue(issue());
    await engine.cancel('test-scope', PHONE, issued.handle);
    expect((await errorOf(engine.check(check(sms.lastCode(PHONE))))).code).toBe('code_invalid');

    const noisyCodes = new Map<string, PendingCode>();
    const noisy = createVerificationEngine({
      codes: memoryCodeStore(noisyCodes),
      sms,
      hasher: createHasher(TEST_SECRET),
      admission: memoryAdmission(loadConfig({}).limits, { codes: noisyCodes }),
      audit: createAuditLog({ insert: async () => {}, listForUser: async () => [] }, Date.now, silentLog),
      events: {
        codeSent: () => {
          throw new Error('observer down');
        },
      },
      settings: { providerTimeoutMs: 1000, allowedCountries: '*', prefixDigits: 7, testPhoneNumbers: new Map() },
      now: Date.now,
      log: silentLog,
    });
    await noisy.issue(issue());
    await noisy.check(check(sms.lastCode(PHONE)));
  });
});
