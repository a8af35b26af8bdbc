import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { retryDelayMs, RETRY_WINDOW_MS } from '../../src/webhooks/worker.js';
import { kyselyAccountRepository } from '../../src/db/account-repository.js';
import { atomicWriter } from '../../src/db/atomic-write.js';
import { openDatabase } from '../../src/db/database.js';
import { PhoneTakenError } from '../../src/domain/account-repository.js';
import { kyselyWebhookOutbox } from '../../src/webhooks/outbox.js';
import { webhooksCommand } from '../../src/webhooks/webhooks-cli.js';
import { backendAvailable, postgresTestSchema, silentLog } from '../helpers/backends.js';
import { createTestApp, fakeClock, PASSWORD, PHONE, post, sendCode, type FakeClock, type TestApp } from '../helpers/app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { totpNow } from '../security/helpers.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const NEW_PHONE = '+8613900139000';
const NEW_PASSWORD = 'a brand new password';

/** Runs the app's worker until nothing is due now. */
async function drain(...apps: TestApp[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const attempts = await Promise.all(apps.map((a) => a.services.webhooks.worker!.deliverDue()));
    if (attempts.every((n) => n === 0)) return;
  }
  throw new Error('the outbox did not drain in 50 rounds');
}

async function signUp(t: TestApp, phone: string) {
  const code = await sendCode(t, phone, 'register');
  const res = await post(t.app, '/api/register', { phone, code, password: PASSWORD });
  expect(res.status).toBe(201);
  return res.body as { user: { id: string }; token: string; accessToken: string; refreshToken: string };
}

const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.close();
});
async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(SECRET);
  receivers.push(r);
  return r;
}

function webhookSuite(name: string, env: () => Record<string, string>) {
  describe(`webhooks (${name})`, () => {
    const open: TestApp[] = [];
    afterEach(async () => {
      for (const t of open.splice(0)) await t.close();
    });
    async function start(urls: string[], options: { clock?: FakeClock; dir?: string; extra?: Record<string, string> } = {}) {
      const t = await createTestApp({
        clock: options.clock ?? fakeClock(Date.now()),
        ...(options.dir ? { dir: options.dir } : {}),
        env: { ...env(), WEBHOOK_URL: urls.join(','), WEBHOOK_SECRET: SECRET, ...options.extra },
      });
      open.push(t);
      return t;
    }

    it('delivers every account event type, signed so the standardwebhooks verifier accepts it, to each receiver, with no secret inside', async () => {
      const [a, b] = [await receiver(), await receiver()];
      const t = await start([`${a.url}/hooks`, `${b.url}/hooks`]);
      const signedUp = await signUp(t, PHONE);
      const login = (await post(t.app, '/api/login/password', { phone: PHONE, password: PASSWORD })).body;
      const auth = { authorization: `Bearer ${login.accessToken}` };
      const { secret } = (await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth)).body;
      expect((await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth)).status).toBe(200);
      t.clock.advance(30_000);
      expect((await post(t.app, '/api/2fa/disable', { password: PASSWORD, code: await totpNow(secret, t.clock) }, auth)).status).toBe(200);
      const changeCode = await sendCode(t, NEW_PHONE, 'change_phone', auth);
      expect((await post(t.app, '/api/phone/change', { newPhone: NEW_PHONE, code: changeCode, password: PASSWORD }, auth)).status).toBe(200);
      const resetCode = await sendCode(t, NEW_PHONE, 'reset_password');
      expect((await post(t.app, '/api/password/reset', { phone: NEW_PHONE, code: resetCode, newPassword: NEW_PASSWORD })).status).toBe(200);
      const again = (await post(t.app, '/api/login/password', { phone: NEW_PHONE, password: NEW_PASSWORD })).body;
      await post(t.app, '/api/token/refresh', { refreshToken: again.refreshToken });
      await post(t.app, '/api/token/refresh', { refreshToken: again.refreshToken });
      await drain(t);

      for (const r of [a, b]) {
        expect(r.refused).toBe(0);
        // A batch is delivered concurrently: receivers get no order guarantee (nor does the standard give one).
        expect(r.received.map((e) => e.type).sort()).toEqual([
          'user.created',
          'user.signed_in',
          'user.two_factor_enabled',
          'user.two_factor_disabled',
          'user.phone_changed',
          // A phone change ends the account's other sessions.
          'user.sessions_revoked',
          'user.password_reset',
          'user.sessions_revoked',
          'user.signed_in',
          'user.sessions_revoked',
        ].sort());
        for (const event of r.received) {
          expect(event.data.userId).toBe(signedUp.user.id);
          expect(event.data.phone).toMatch(/^\+86\d{11}$/);
          expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
          for (const secretValue of [PASSWORD, NEW_PASSWORD, signedUp.token, signedUp.refreshToken, signedUp.accessToken, secret, changeCode, resetCode, again.refreshToken]) {
            expect(event.raw).not.toContain(secretValue);
          }
        }
        expect(r.received.find((e) => e.type === 'user.phone_changed')!.data).toMatchObject({ phone: NEW_PHONE, previousPhone: PHONE });
        expect(r.received.filter((e) => e.type === 'user.signed_in').map((e) => e.data.amr)).toEqual([['pwd'], ['pwd']]);
        expect(r.received.filter((e) => e.type === 'user.sessions_revoked').map((e) => e.data.reason).sort()).toEqual(['password_reset', 'phone_changed', 'refresh_token_reused']);
      }
      // One message id per event, the same for every receiver.
      expect(a.received.map((e) => e.id).sort()).toEqual(b.received.map((e) => e.id).sort());
      expect(new Set(a.received.map((e) => e.id)).size).toBe(a.received.length);
    });

    it('writes the event in the change\'s transaction: an insert the unique index refuses leaves no user.created behind', async () => {
      const r = await receiver();
      const t = await start([r.url]);
      const { user } = await signUp(t, PHONE);
      // Another connection, as a second instance would hold: its repository queues events through the same outbox.
      const database = openDatabase(t.config, silentLog);
      try {
        const repo = kyselyAccountRepository(database.db, database.kind, {
          write: atomicWriter(database),
          statementsFor: kyselyWebhookOutbox(database.db, atomicWriter(database), [r.url]).statementsFor,
        });
        const twin = { id: 'someone-else', phone: PHONE, passwordHash: 'x', createdAt: t.clock.now(), credentialVersion: 0 };
        await expect(repo.createUser(twin, [{ type: 'user.created', at: twin.createdAt, data: { userId: twin.id, phone: PHONE } }])).rejects.toBeInstanceOf(
          PhoneTakenError,
        );
      } finally {
        await database.close();
      }
      const rows = await t.services.webhooks.deliveries.list(10);
      expect(rows.map((d) => [d.type, JSON.parse(d.payload).data.userId])).toEqual([['user.created', user.id]]);
    });

    it('a receiver down for hours gets every event once it is back, and two instances never deliver one event twice', async () => {
      const r = await receiver();
      r.mode = 'down';
      const clock = fakeClock(Date.now());
      const dir = mkdtempSync(join(tmpdir(), 'sms-verify-webhooks-'));
      try {
        // Two instances on one database (for SQLite: the same file).
        const first = await start([r.url], { clock, dir });
        const second = await start([r.url], { clock, dir });
        for (let i = 0; i < 6; i++) await signUp(i % 2 ? second : first, `+86138001380${String(i).padStart(2, '0')}`);
        // Three hours of failures, each instance's worker trying whatever is due.
        for (let hour = 0; hour < 3; hour++) {
          await drain(first, second);
          clock.advance(3600_000);
        }
        expect(r.received).toHaveLength(0);
        const pending = await first.services.webhooks.deliveries.list(50, 'pending');
        expect(pending).toHaveLength(6);
        expect(pending.every((d) => d.attempts >= 3 && d.lastError === 'status 503')).toBe(true);

        // One instance restarts while the receiver is still down; the outbox survives it.
        await first.close();
        open.splice(open.indexOf(first), 1);
        const restarted = await start([r.url], { clock, dir });

        r.mode = 'ok';
        // The longest wait is 2 h plus jitter.
        clock.advance(2.5 * 3600_000);
        await Promise.all([drain(restarted, second), drain(second, restarted)]);
        const ids = r.received.map((e) => e.id);
        expect(ids).toHaveLength(6);
        expect(new Set(ids).size).toBe(6);
        expect(r.received.every((e) => e.type === 'user.created')).toBe(true);
        expect(await second.services.webhooks.deliveries.list(50, 'pending')).toHaveLength(0);
      } finally {
        for (const t of open.splice(0)) await t.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('counts a timeout as a failure, gives up after 24 hours, and `webhooks retry ID` sends it again', async () => {
      const r = await receiver();
      r.mode = 'hang';
      const t = await start([r.url], { extra: { WEBHOOK_TIMEOUT_MS: '200' } });
      await signUp(t, PHONE);
      await drain(t);
      const [timedOut] = await t.services.webhooks.deliveries.list(1);
      expect(timedOut).toMatchObject({ state: 'pending', attempts: 1, lastError: 'timeout' });

      r.mode = 'down';
      // The last wait before the window closes can be 2 h and a bit.
      for (let elapsed = 0; elapsed <= RETRY_WINDOW_MS + 3 * 3600_000; elapsed += 3600_000) {
        t.clock.advance(3600_000);
        await drain(t);
      }
      const [failed] = await t.services.webhooks.deliveries.list(1);
      expect(failed!.state).toBe('failed');
      expect(failed!.attempts).toBeGreaterThan(10);

      const lines: string[] = [];
      expect(await webhooksCommand(['list'], t.services.webhooks.deliveries, t.clock.now(), (l) => lines.push(l))).toBe(0);
      expect(lines[0]).toMatch(new RegExp(`^${failed!.id}\\s+failed\\s+user\\.created`));
      expect(lines[0]).toContain('last: status 503');

      r.mode = 'ok';
      expect(await webhooksCommand(['retry', failed!.id], t.services.webhooks.deliveries, t.clock.now(), () => {})).toBe(0);
      await drain(t);
      expect(r.received.map((e) => e.type)).toEqual(['user.created']);
      expect((await t.services.webhooks.deliveries.list(1))[0]!.state).toBe('delivered');
      // A delivered one is not sent again.
      expect(await webhooksCommand(['retry', failed!.id], t.services.webhooks.deliveries, t.clock.now(), () => {})).toBe(1);
      expect(await webhooksCommand(['retry', 'no-such-id'], t.services.webhooks.deliveries, t.clock.now(), () => {})).toBe(1);
    });

    it('a receiver that never answers does not hold up a sign-up', async () => {
      const r = await receiver();
      r.mode = 'hang';
      const t = await start([r.url], { extra: { WEBHOOK_TIMEOUT_MS: '60000' } });
      const worker = t.services.webhooks.worker!;
      worker.start();
      await signUp(t, PHONE);
      while (r.requestCount() === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      // The worker's request hangs; the next sign-up answers all the same.
      await signUp(t, '+8613800138009');
      expect(r.requestCount()).toBe(1);
    });
  });
}

describe('retry schedule', () => {
  it('doubles from 10 s up to 2 h, with jitter of at most 20 %, so 24 hours hold about 20 attempts', () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(2, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(12, () => 0.5)).toBe(2 * 3600_000);
    expect(retryDelayMs(30, () => 0.5)).toBe(2 * 3600_000);
    expect(retryDelayMs(1, () => 0)).toBe(8000);
    expect(retryDelayMs(1, () => 1)).toBe(12_000);
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < RETRY_WINDOW_MS) elapsed += retryDelayMs(++attempts, () => 0.5);
    expect(attempts).toBeGreaterThanOrEqual(15);
    expect(attempts).toBeLessThanOrEqual(25);
  });
});

webhookSuite('SQLite', () => ({}));
if (backendAvailable('TEST_DATABASE_URL')) {
  const schema = postgresTestSchema();
  webhookSuite('PostgreSQL', () => ({ DATABASE_URL: schema.url, RATE_LIMIT_STORE: 'memory' }));
  afterEach(async () => {
    await schema.truncate();
    const db = await schema.open();
    try {
      await db.db.deleteFrom('webhook_deliveries').execute();
    } finally {
      await db.close();
    }
  });
}
