import type { CheckResult, PendingCode } from './ports.js';

/**
 * The admission port: the one atomic step that decides a send, and the one that decides a check.
 *
 * A send is admitted only if the number is outside its cooldown and every send limit has a point
 * left (per IP hourly, per number hourly and daily, per prefix hourly, the daily budget); then all
 * of them are counted and the new code stored, together. A refusal counts nothing, so a refused
 * send never takes a point nor holds anybody's allowance, and needs no give-back afterwards.
 *
 * A check counts against the caller's per-IP check limit, is refused while the number's
 * wrong-code budget is spent, checks the code, and counts a wrong code against that budget.
 *
 * Windows are the ones src/limits uses: fixed, aligned to the epoch (clock hours, UTC days) and
 * chosen with the caller's clock (`now`), so a window's counter starts at zero when it begins and
 * a refusal's wait runs to its end. Implementations: memory, SQLite, PostgreSQL, Redis (and Redis
 * Cluster); test/stores/admission.conformance.ts runs one suite against each.
 */

/** The ceilings the admission step enforces: the matching fields of the limit settings. */
export interface AdmissionLimits {
  readonly smsPerIpHourly: number;
  readonly smsPerPhoneHourly: number;
  readonly smsPerPhoneDaily: number;
  readonly smsPerPrefixHourly: number;
  /** 0: no daily budget. */
  readonly smsDailyBudget: number;
  readonly checksPerIpHourly: number;
  readonly failedChecksPerPhoneHourly: number;
}

/** The send limits by the names src/limits gives their rules, in the order they are asked. */
export type SendLimitName = 'sms_phone_h' | 'sms_phone_d' | 'sms_ip_h' | 'sms_prefix_h' | 'sms_budget_d';
export type CheckLimitName = 'checks_ip_h' | 'failed_checks_h';

export interface SendAdmissionRequest {
  /** E.164, and the purpose: the pending code's key. */
  readonly phone: string;
  readonly purpose: string;
  /** `ipLimitKey(client.ip)`; absent when the caller's IP is a server's, not the person's: no per-IP counter then. */
  readonly ipKey?: string | undefined;
  /** `phonePrefix(phone, prefixDigits)`. */
  readonly prefix: string;
  /**
   * The new code; its attempts are stored as 0. Absent for a notice (an SMS without a code): the
   * limits and the budget are counted, no cooldown is asked and no code is touched.
   */
  readonly pending?: PendingCode | undefined;
  /** Epoch ms: picks the windows. `abortSend` must be given the same request, so it gives back into the same windows. */
  readonly now: number;
}

export type SendAdmission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly refusedBy: 'cooldown' | SendLimitName; readonly retryAfterMs: number };

export interface CheckAdmissionRequest {
  readonly phone: string;
  readonly purpose: string;
  /** As for a send: absent, the per-IP check limit does not apply. */
  readonly ipKey?: string | undefined;
  /** Hasher.code of the candidate. */
  readonly candidateHash: string;
  readonly now: number;
  readonly maxAttempts: number;
}

export type CheckAdmission =
  | { readonly outcome: 'refused'; readonly refusedBy: CheckLimitName; readonly retryAfterMs: number }
  | Exclude<CheckResult, { outcome: 'wrong' }>
  /** `failuresLeft` 0: this wrong code spent the number's budget, and it is locked until the window ends. */
  | { readonly outcome: 'wrong'; readonly attemptsLeft: number; readonly failuresLeft: number };

export interface Admission {
  readonly name: 'memory' | 'sqlite' | 'postgres' | 'redis';
  /** Cooldown, every send limit and the new code, in one atomic step (see above). */
  admitSend(request: SendAdmissionRequest): Promise<SendAdmission>;
  /**
   * Undoes an admitted send whose SMS did not go out: gives its points back (in the windows of
   * `request.now`) and removes the code and its cooldown if the pending code is still this one.
   */
  abortSend(request: SendAdmissionRequest): Promise<void>;
  /**
   * The per-IP check limit (every check that gets past it counts, also one the budget refuses,
   * as today), the wrong-code budget and the code check, in one step (two on Redis Cluster).
   * A match consumes the code; a mismatch counts an attempt and a failure.
   */
  check(request: CheckAdmissionRequest): Promise<CheckAdmission>;
  /** SMS counted against the daily budget in the UTC day of `now` (the budget metric); 0 without a budget. */
  dailyBudgetUsed(now: number): Promise<number>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One counter an admission step looks at: the rule, its key in this window, and when the window ends. */
export interface AdmissionCounter<Name extends string = SendLimitName | CheckLimitName> {
  readonly rule: Name;
  /** `<rule>:<key>@<window index>`, the key src/limits' fixed windows count under. */
  readonly key: string;
  readonly points: number;
  /** Epoch ms at which this window ends: the wait of a refusal and the counter's expiry. */
  readonly windowEnd: number;
  /** Whether the key belongs to the number (shares its Redis Cluster slot) or is shared by many numbers. */
  readonly perNumber: boolean;
}

function counter<Name extends string>(rule: Name, key: string, points: number, windowMs: number, now: number, perNumber: boolean): AdmissionCounter<Name> {
  const index = Math.floor(now / windowMs);
  return { rule, key: `${rule}:${key}@${index}`, points, windowEnd: (index + 1) * windowMs, perNumber };
}

/**
 * The send's counters, in the order a refusal is reported: the number's own first (on Redis Cluster
 * they are decided in the number's slot, with the cooldown), then the IP, the prefix, the budget.
 */
export function sendCounters(limits: AdmissionLimits, r: SendAdmissionRequest): AdmissionCounter<SendLimitName>[] {
  const counters: AdmissionCounter<SendLimitName>[] = [
    counter('sms_phone_h', r.phone, limits.smsPerPhoneHourly, HOUR_MS, r.now, true),
    counter('sms_phone_d', r.phone, limits.smsPerPhoneDaily, DAY_MS, r.now, true),
    ...(r.ipKey === undefined ? [] : [counter('sms_ip_h', r.ipKey, limits.smsPerIpHourly, HOUR_MS, r.now, false)]),
    counter('sms_prefix_h', r.prefix, limits.smsPerPrefixHourly, HOUR_MS, r.now, false),
  ];
  if (limits.smsDailyBudget > 0) counters.push(counter('sms_budget_d', 'all', limits.smsDailyBudget, DAY_MS, r.now, false));
  return counters;
}

/** The daily budget's counter for the day of `now`, if there is a budget. */
export function budgetCounter(limits: AdmissionLimits, now: number): AdmissionCounter<'sms_budget_d'> | undefined {
  return limits.smsDailyBudget > 0 ? counter('sms_budget_d', 'all', limits.smsDailyBudget, DAY_MS, now, false) : undefined;
}

/** The check's counters: the per-IP check limit, and the number's wrong-code budget (per purpose, as today). */
export function checkCounters(
  limits: AdmissionLimits,
  r: CheckAdmissionRequest,
): { perIp: AdmissionCounter<'checks_ip_h'> | undefined; failures: AdmissionCounter<'failed_checks_h'> } {
  return {
    perIp: r.ipKey === undefined ? undefined : counter('checks_ip_h', r.ipKey, limits.checksPerIpHourly, HOUR_MS, r.now, false),
    failures: counter('failed_checks_h', `${r.purpose}:${r.phone}`, limits.failedChecksPerPhoneHourly, HOUR_MS, r.now, true),
  };
}
