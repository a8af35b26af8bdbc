import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Admission, AdmissionLimits, CheckAdmissionRequest, SendAdmissionRequest } from '../../src/domain/admission.js';
import type { CodeStore } from '../../src/stores/types.js';

export interface AdmissionFixture {
  admission: Admission;
  /** The code store of the same backend: what the admission stores, it checks and restores. */
  codes: CodeStore;
  close(): Promise<void>;
}

/** Small ceilings, so each test reaches them in a few calls. */
export const CONFORMANCE_LIMITS: AdmissionLimits = {
  smsPerIpHourly: 4,
  smsPerPhoneHourly: 2,
  smsPerPhoneDaily: 3,
  smsPerPrefixHourly: 6,
  smsDailyBudget: 8,
  checksPerIpHourly: 12,
  failedChecksPerPhoneHourly: 3,
};

const HOUR = 3_600_000;
/** 00:10 UTC: an hour's window ends 50 minutes later, the day's 23 h 50 min later. */
const T0 = Date.UTC(2026, 0, 1, 0, 10);
const COOLDOWN = 60_000;
const PHONE = '+8613800138000';

let serial = 0;
const fresh = () => `+861390000${String(serial++ % 10_000).padStart(4, '0')}`;

function send(overrides: Partial<Omit<SendAdmissionRequest, 'pending'>> & { hash?: string } = {}): SendAdmissionRequest {
  const now = overrides.now ?? T0;
  const phone = overrides.phone ?? PHONE;
  return {
    phone,
    purpose: overrides.purpose ?? 'register',
    ipKey: overrides.ipKey ?? '192.0.2.1',
    prefix: overrides.prefix ?? phone.slice(0, 10),
    pending: { codeHash: overrides.hash ?? `h-${now}`, expiresAt: now + 300_000, resendAt: now + COOLDOWN, attempts: 0 },
    now,
  };
}

function check(overrides: Partial<CheckAdmissionRequest> = {}): CheckAdmissionRequest {
  return {
    phone: PHONE,
    purpose: 'register',
    ipKey: '192.0.2.1',
    candidateHash: 'wrong',
    now: T0 + 1000,
    maxAttempts: 5,
    ...overrides,
  };
}

/** The behaviour every Admission must have: run against memory, SQLite, PostgreSQL, Redis and Redis Cluster. */
export function describeAdmissionConformance(name: string, open: () => Promise<AdmissionFixture>): void {
  describe(`${name} admission conformance`, () => {
    let f: AdmissionFixture;
    beforeEach(async () => {
      f = await open();
    });
    afterEach(async () => {
      await f.close();
    });

    it('admits a send and stores its code, which the code store then accepts once', async () => {
      expect(await f.admission.admitSend(send({ hash: 'h1' }))).toEqual({ admitted: true });
      const checked = await f.codes.check({ phone: PHONE, purpose: 'register' }, 'h1', T0 + 1000, 5);
      expect(checked.outcome).toBe('valid');
    });

    it('refuses inside the cooldown with the wait, and a refusal counts nothing', async () => {
      await f.admission.admitSend(send());
      for (let i = 1; i <= 5; i++) {
        expect(await f.admission.admitSend(send({ now: T0 + i * 1000 }))).toEqual({
          admitted: false,
          refusedBy: 'cooldown',
          retryAfterMs: COOLDOWN - i * 1000,
        });
      }
      // Five refusals later the number still has its second send of the hour.
      expect(await f.admission.admitSend(send({ now: T0 + COOLDOWN }))).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ now: T0 + 2 * COOLDOWN }))).toEqual({
        admitted: false,
        refusedBy: 'sms_phone_h',
        retryAfterMs: 50 * 60_000 - 2 * COOLDOWN,
      });
    });

    it('keeps the pending code when a send is refused', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      await f.admission.admitSend(send({ now: T0 + 1000, hash: 'h2' }));
      expect((await f.codes.check({ phone: PHONE, purpose: 'register' }, 'h1', T0 + 2000, 5)).outcome).toBe('valid');
    });

    it('refuses over the per-number daily limit until the UTC day ends', async () => {
      expect(await f.admission.admitSend(send({ now: T0 }))).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ now: T0 + COOLDOWN }))).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ now: T0 + HOUR }))).toEqual({ admitted: true });
      const refused = await f.admission.admitSend(send({ now: T0 + 2 * HOUR }));
      expect(refused).toEqual({ admitted: false, refusedBy: 'sms_phone_d', retryAfterMs: Date.UTC(2026, 0, 2) - (T0 + 2 * HOUR) });
    });

    it('refuses over the per-IP limit, and the refused number keeps its own allowance', async () => {
      for (let i = 0; i < CONFORMANCE_LIMITS.smsPerIpHourly; i++) {
        expect(await f.admission.admitSend(send({ phone: fresh(), prefix: `+86${i}` }))).toEqual({ admitted: true });
      }
      const victim = fresh();
      expect(await f.admission.admitSend(send({ phone: victim, prefix: '+86x' }))).toMatchObject({ admitted: false, refusedBy: 'sms_ip_h' });
      // The refusal took none of the victim's points: from another address it still gets both sends of the hour.
      expect(await f.admission.admitSend(send({ phone: victim, prefix: '+86y', ipKey: '198.51.100.7' }))).toEqual({ admitted: true });
      expect(
        await f.admission.admitSend(send({ phone: victim, prefix: '+86y', ipKey: '198.51.100.7', now: T0 + COOLDOWN })),
      ).toEqual({ admitted: true });
    });

    it('starts a new window at the clock hour', async () => {
      for (let i = 0; i < CONFORMANCE_LIMITS.smsPerIpHourly; i++) await f.admission.admitSend(send({ phone: fresh(), prefix: `+86${i}` }));
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86z' }))).toMatchObject({ refusedBy: 'sms_ip_h', retryAfterMs: 50 * 60_000 });
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86z', now: T0 + 50 * 60_000 }))).toEqual({ admitted: true });
    });

    it('refuses over the per-prefix limit and the daily budget', async () => {
      const ips = (i: number) => `203.0.113.${i}`;
      for (let i = 0; i < CONFORMANCE_LIMITS.smsPerPrefixHourly; i++) {
        expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86139', ipKey: ips(i) }))).toEqual({ admitted: true });
      }
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86139', ipKey: ips(50) }))).toMatchObject({ refusedBy: 'sms_prefix_h' });
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86150', ipKey: ips(51) }))).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86151', ipKey: ips(52) }))).toEqual({ admitted: true });
      // Eight sends today: the budget is spent until midnight UTC, for every number.
      expect(await f.admission.admitSend(send({ phone: fresh(), prefix: '+86152', ipKey: ips(53) }))).toEqual({
        admitted: false,
        refusedBy: 'sms_budget_d',
        retryAfterMs: Date.UTC(2026, 0, 2) - T0,
      });
    });

    it('admits exactly one of many simultaneous sends of one number', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => f.admission.admitSend(send({ hash: `h${i}` }))));
      expect(answers.filter((a) => a.admitted)).toHaveLength(1);
      expect(answers.filter((a) => !a.admitted && a.refusedBy === 'cooldown')).toHaveLength(11);
    });

    it('never lets simultaneous sends from one IP past its limit', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => f.admission.admitSend(send({ phone: fresh(), prefix: `+86${i}` }))));
      expect(answers.filter((a) => a.admitted)).toHaveLength(CONFORMANCE_LIMITS.smsPerIpHourly);
      // And the refused ones counted nothing: after the hour the IP gets its full allowance again, not less.
      const next = T0 + 50 * 60_000;
      const later = await Promise.all(Array.from({ length: 6 }, (_, i) => f.admission.admitSend(send({ phone: fresh(), prefix: `+87${i}`, now: next }))));
      expect(later.filter((a) => a.admitted)).toHaveLength(CONFORMANCE_LIMITS.smsPerIpHourly);
    });

    it('abortSend gives the points back and removes the code, but leaves a newer code alone', async () => {
      const key = { phone: PHONE, purpose: 'register' };
      const first = send({ hash: 'h1' });
      await f.admission.admitSend(first);
      await f.admission.abortSend(first);
      expect((await f.codes.check(key, 'h1', T0 + 500, 5)).outcome).toBe('missing');
      // No cooldown remains and no point was spent.
      const second = send({ now: T0 + 1000, hash: 'h2' });
      expect(await f.admission.admitSend(second)).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ now: T0 + 1000 + COOLDOWN, hash: 'h3' }))).toEqual({ admitted: true });
      // The second send's SMS failed late, after the third was stored: its points come back, the third code stays.
      await f.admission.abortSend(second);
      expect((await f.codes.check(key, 'h3', T0 + 2000 + COOLDOWN, 5)).outcome).toBe('valid');
      expect(await f.admission.admitSend(send({ now: T0 + 1000 + 2 * COOLDOWN }))).toEqual({ admitted: true });
      expect(await f.admission.admitSend(send({ now: T0 + 1000 + 3 * COOLDOWN }))).toMatchObject({ refusedBy: 'sms_phone_h' });
    });

    it('checks a code: right once, wrong counts an attempt, then missing, expired, exhausted', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      expect(await f.admission.check(check())).toEqual({ outcome: 'wrong', attemptsLeft: 4, failuresLeft: 2 });
      const right = await f.admission.check(check({ candidateHash: 'h1' }));
      expect(right).toEqual({ outcome: 'valid', consumed: { codeHash: 'h1', expiresAt: T0 + 300_000, resendAt: T0 + COOLDOWN, attempts: 1 } });
      expect(await f.admission.check(check({ candidateHash: 'h1' }))).toEqual({ outcome: 'missing' });

      await f.admission.admitSend(send({ now: T0 + COOLDOWN, hash: 'h2' }));
      expect(await f.admission.check(check({ candidateHash: 'h2', now: T0 + COOLDOWN + 300_000 }))).toEqual({ outcome: 'expired' });
      await f.admission.admitSend(send({ phone: '+8613800138001', hash: 'h3' }));
      const other = { phone: '+8613800138001' };
      for (let i = 0; i < 2; i++) await f.admission.check(check({ ...other, maxAttempts: 2 }));
      expect(await f.admission.check(check({ ...other, candidateHash: 'h3', maxAttempts: 2 }))).toEqual({ outcome: 'exhausted' });
    });

    it('locks the number after its wrong-code budget, even for the right code, across resends, until the hour ends', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await f.admission.check(check()));
      expect(answers.map((a) => a.outcome === 'wrong' && a.failuresLeft)).toEqual([2, 1, 0]);
      expect(await f.admission.check(check({ candidateHash: 'h1' }))).toEqual({
        outcome: 'refused',
        refusedBy: 'failed_checks_h',
        retryAfterMs: 50 * 60_000 - 1000,
      });
      await f.admission.admitSend(send({ now: T0 + COOLDOWN, hash: 'h2' }));
      expect(await f.admission.check(check({ candidateHash: 'h2', now: T0 + COOLDOWN + 1 }))).toMatchObject({ refusedBy: 'failed_checks_h' });
      // A new hour opens the number again.
      const nextHour = T0 + 50 * 60_000;
      await f.admission.admitSend(send({ now: nextHour, hash: 'h3' }));
      expect((await f.admission.check(check({ candidateHash: 'h3', now: nextHour + 1 }))).outcome).toBe('valid');
    });

    it('does not count a right code, a missing code or another purpose against the budget', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      for (let i = 0; i < 5; i++) await f.admission.check(check({ purpose: 'login' }));
      expect(await f.admission.check(check({ candidateHash: 'h1' }))).toMatchObject({ outcome: 'valid' });
      expect(await f.admission.check(check())).toEqual({ outcome: 'missing' });
      await f.admission.admitSend(send({ now: T0 + COOLDOWN, hash: 'h2' }));
      expect(await f.admission.check(check({ now: T0 + COOLDOWN + 1 }))).toMatchObject({ outcome: 'wrong', failuresLeft: 2 });
    });

    it('never lets simultaneous wrong codes past the budget', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      const answers = await Promise.all(Array.from({ length: 10 }, () => f.admission.check(check({ maxAttempts: 100 }))));
      expect(answers.filter((a) => a.outcome === 'wrong')).toHaveLength(CONFORMANCE_LIMITS.failedChecksPerPhoneHourly);
      expect(answers.filter((a) => a.outcome === 'refused')).toHaveLength(10 - CONFORMANCE_LIMITS.failedChecksPerPhoneHourly);
      expect(answers.filter((a) => a.outcome === 'wrong' && a.failuresLeft === 0)).toHaveLength(1);
    });

    it('lets exactly one of many simultaneous right codes through', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      const answers = await Promise.all(Array.from({ length: 10 }, () => f.admission.check(check({ candidateHash: 'h1' }))));
      expect(answers.filter((a) => a.outcome === 'valid')).toHaveLength(1);
    });

    it('refuses past the per-IP check limit, counting every check that reached it', async () => {
      for (let i = 0; i < CONFORMANCE_LIMITS.checksPerIpHourly; i++) {
        expect((await f.admission.check(check({ phone: fresh() }))).outcome).toBe('missing');
      }
      expect(await f.admission.check(check({ phone: fresh() }))).toEqual({ outcome: 'refused', refusedBy: 'checks_ip_h', retryAfterMs: 50 * 60_000 - 1000 });
      expect((await f.admission.check(check({ phone: fresh(), ipKey: '198.51.100.9' }))).outcome).toBe('missing');
    });
    it('without an IP key counts no per-IP limit, for a send or a check', async () => {
      for (let i = 0; i < CONFORMANCE_LIMITS.smsPerIpHourly + 1; i++) {
        expect(await f.admission.admitSend({ ...send({ phone: fresh() }), ipKey: undefined })).toEqual({ admitted: true });
      }
      // The IP itself was never counted: its own allowance is whole.
      expect(await f.admission.admitSend(send({ phone: fresh() }))).toEqual({ admitted: true });
      for (let i = 0; i < CONFORMANCE_LIMITS.checksPerIpHourly + 1; i++) {
        expect((await f.admission.check({ ...check({ phone: fresh() }), ipKey: undefined })).outcome).toBe('missing');
      }
    });

    it('a notice (no code) counts the number and the budget, asks no cooldown and leaves the pending code alone', async () => {
      await f.admission.admitSend(send({ hash: 'h1' }));
      const notice = { ...send({ now: T0 + 1000 }), pending: undefined };
      expect(await f.admission.admitSend(notice)).toEqual({ admitted: true });
      // The number's hourly cap (2) is now spent by the code and the notice.
      expect(await f.admission.admitSend({ ...send({ now: T0 + 2000 }), pending: undefined })).toMatchObject({ admitted: false, refusedBy: 'sms_phone_h' });
      expect(await f.admission.dailyBudgetUsed(T0 + 2000)).toBe(2);
      await f.admission.abortSend(notice);
      expect(await f.admission.dailyBudgetUsed(T0 + 2000)).toBe(1);
      expect(await f.admission.check(check({ candidateHash: 'h1' }))).toMatchObject({ outcome: 'valid' });
      // The aborted notice gave its point back.
      expect(await f.admission.admitSend({ ...send({ now: T0 + COOLDOWN }), pending: undefined })).toEqual({ admitted: true });
    });
  });
}
