import type pg from 'pg';
import { classifyPostgresFailure } from '../db/postgres-failures.js';
import type { Admission, AdmissionCounter, AdmissionLimits, CheckAdmission, SendAdmission } from '../domain/admission.js';
import { budgetCounter, checkCounters, sendCounters } from '../domain/admission.js';
import { hashesEqual } from '../domain/codes.js';

/*
 * Named statements: pg prepares each once per connection and afterwards sends only its name and
 * the values, so the server neither parses nor plans them again.
 */

/**
 * Stores the new code unless the cooldown runs. On a conflict every column keeps its value while
 * the cooldown runs, so the row that comes back says which it was: our hash (admitted) or the
 * pending one and its resend time (refused). ON CONFLICT locks the row either way, so concurrent
 * sends of one number queue here.
 */
const UPSERT_CODE = {
  name: 'sms_verify_admission_upsert_code',
  text: `INSERT INTO pending_codes AS p (phone, purpose, code_hash, expires_at, resend_at, attempts)
    VALUES ($1, $2, $3, $4, $5, 0)
    ON CONFLICT (phone, purpose) DO UPDATE SET
      code_hash = CASE WHEN p.resend_at <= $6 THEN excluded.code_hash ELSE p.code_hash END,
      expires_at = CASE WHEN p.resend_at <= $6 THEN excluded.expires_at ELSE p.expires_at END,
      attempts = CASE WHEN p.resend_at <= $6 THEN 0 ELSE p.attempts END,
      resend_at = CASE WHEN p.resend_at <= $6 THEN excluded.resend_at ELSE p.resend_at END
    RETURNING code_hash, resend_at`,
};

/**
 * Counts one point on each key, in the order given (the same order in every transaction, so two
 * of them never wait on each other's rows in a cycle), and answers the new counts. A row whose
 * expiry passed starts again at one, as rate-limiter-flexible's rows do.
 */
const COUNT = {
  name: 'sms_verify_admission_count',
  text: `INSERT INTO rate_limit_counters AS c (key, points, expire)
    SELECT k, 1, e FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(k, e, n) ORDER BY n
    ON CONFLICT (key) DO UPDATE SET
      points = CASE WHEN c.expire <= $3 THEN 1 ELSE c.points + 1 END,
      expire = GREATEST(COALESCE(c.expire, 0), excluded.expire)
    RETURNING key, points`,
};

const SELECT_CODE_FOR_UPDATE = {
  name: 'sms_verify_admission_select_code',
  text: 'SELECT code_hash, expires_at, resend_at, attempts FROM pending_codes WHERE phone = $1 AND purpose = $2 FOR UPDATE',
};

const POINTS_OF = {
  name: 'sms_verify_admission_points',
  text: 'SELECT points FROM rate_limit_counters WHERE key = $1 AND expire > $2',
};

const DELETE_CODE = { name: 'sms_verify_admission_delete_code', text: 'DELETE FROM pending_codes WHERE phone = $1 AND purpose = $2' };

/** A wrong code: one more attempt on the code and one more failure on the number's budget, in one statement. */
const COUNT_WRONG = {
  name: 'sms_verify_admission_count_wrong',
  text: `WITH attempt AS (UPDATE pending_codes SET attempts = attempts + 1 WHERE phone = $1 AND purpose = $2)
    INSERT INTO rate_limit_counters AS c (key, points, expire) VALUES ($3, 1, $4)
    ON CONFLICT (key) DO UPDATE SET points = CASE WHEN c.expire <= $5 THEN 1 ELSE c.points + 1 END,
      expire = GREATEST(COALESCE(c.expire, 0), excluded.expire)`,
};

/** The undo of an admitted send: its points back and its code gone (if still its own), in one statement. */
const ABORT = {
  name: 'sms_verify_admission_abort',
  text: `WITH code AS (DELETE FROM pending_codes WHERE phone = $1 AND purpose = $2 AND code_hash = $3)
    UPDATE rate_limit_counters SET points = points - 1 WHERE key = ANY($4::text[]) AND points > 0`,
};

interface CodeRow {
  code_hash: string;
  expires_at: number | string;
  resend_at: number | string;
  attempts: number;
}

/**
 * The admission step in PostgreSQL, for several instances without Redis: pending codes in
 * `pending_codes` (the rows postgresCodeStore checks and restores), counters in
 * `rate_limit_counters` under the keys src/limits' PostgreSQL limiters use. A send is one
 * transaction that writes first and decides on what its writes answered: a refusal rolls back, so
 * it counts nothing, and the rows it locked meanwhile only made concurrent requests wait, never
 * refused them. The pool is the caller's.
 */
export function postgresAdmission(limits: AdmissionLimits, pool: pg.Pool): Admission {
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<{ commit: boolean; result: T }>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw classifyPostgresFailure(err);
    }
    try {
      await client.query('BEGIN');
      const { commit, result } = await work(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      client.release();
      return result;
    } catch (err) {
      // The connection's state is unknown (a transaction may still be open): the pool drops it.
      client.release(err instanceof Error ? err : true);
      throw classifyPostgresFailure(err);
    }
  }

  const refusal = <Name extends string>(c: AdmissionCounter<Name>, now: number) => ({ refusedBy: c.rule, retryAfterMs: c.windowEnd - now });

  return {
    name: 'postgres',
    admitSend: (r) =>
      transaction<SendAdmission>(async (client) => {
        const { pending } = r;
        if (pending) {
          const code = await client.query<{ code_hash: string; resend_at: number | string }>({
            ...UPSERT_CODE,
            values: [r.phone, r.purpose, pending.codeHash, pending.expiresAt, pending.resendAt, r.now],
          });
          const row = code.rows[0]!;
          if (row.code_hash !== pending.codeHash || Number(row.resend_at) !== pending.resendAt) {
            return { commit: false, result: { admitted: false, refusedBy: 'cooldown', retryAfterMs: Number(row.resend_at) - r.now } };
          }
        }
        const rules = sendCounters(limits, r);
        const counted = await client.query<{ key: string; points: number }>({
          ...COUNT,
          values: [rules.map((c) => c.key), rules.map((c) => c.windowEnd), r.now],
        });
        const points = new Map(counted.rows.map((x) => [x.key, Number(x.points)]));
        const full = rules.find((c) => (points.get(c.key) ?? 0) > c.points);
        if (full) return { commit: false, result: { admitted: false, ...refusal(full, r.now) } };
        return { commit: true, result: { admitted: true } };
      }),

    async abortSend(r) {
      const keys = sendCounters(limits, r).map((c) => c.key);
      try {
        // A notice stored no code: a hash that matches no row leaves the pending one alone.
        await pool.query({ ...ABORT, values: [r.phone, r.purpose, r.pending?.codeHash ?? '', keys] });
      } catch (err) {
        throw classifyPostgresFailure(err);
      }
    },

    check: (r) =>
      transaction<CheckAdmission>(async (client) => {
        const { perIp, failures } = checkCounters(limits, r);
        if (perIp) {
          const ip = await client.query<{ points: number }>({ ...COUNT, values: [[perIp.key], [perIp.windowEnd], r.now] });
          if (Number(ip.rows[0]!.points) > perIp.points) return { commit: false, result: { outcome: 'refused', ...refusal(perIp, r.now) } };
        }
        // The code row's lock, taken first, serializes the checks of this number and purpose, so
        // the budget read after it is the one the last of them left.
        const { rows } = await client.query<CodeRow>({ ...SELECT_CODE_FOR_UPDATE, values: [r.phone, r.purpose] });
        const failed = Number((await client.query<{ points: number }>({ ...POINTS_OF, values: [failures.key, r.now] })).rows[0]?.points ?? 0);
        if (failed >= failures.points) return { commit: true, result: { outcome: 'refused', ...refusal(failures, r.now) } };
        const row = rows[0];
        if (!row) return { commit: true, result: { outcome: 'missing' } };
        if (Number(row.expires_at) <= r.now) return { commit: true, result: { outcome: 'expired' } };
        if (row.attempts >= r.maxAttempts) return { commit: true, result: { outcome: 'exhausted' } };
        if (hashesEqual(row.code_hash, r.candidateHash)) {
          await client.query({ ...DELETE_CODE, values: [r.phone, r.purpose] });
          const consumed = { codeHash: row.code_hash, expiresAt: Number(row.expires_at), resendAt: Number(row.resend_at), attempts: row.attempts };
          return { commit: true, result: { outcome: 'valid', consumed } };
        }
        await client.query({ ...COUNT_WRONG, values: [r.phone, r.purpose, failures.key, failures.windowEnd, r.now] });
        return {
          commit: true,
          result: { outcome: 'wrong', attemptsLeft: r.maxAttempts - (row.attempts + 1), failuresLeft: failures.points - failed - 1 },
        };
      }),

    async dailyBudgetUsed(now) {
      const budget = budgetCounter(limits, now);
      if (!budget) return 0;
      try {
        const { rows } = await pool.query<{ points: number }>({ ...POINTS_OF, values: [budget.key, now] });
        return Number(rows[0]?.points ?? 0);
      } catch (err) {
        throw classifyPostgresFailure(err);
      }
    },
  } satisfies Admission;
}
