import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/domain/logger.js';
import { failoverSmsProvider } from '../../src/sms/failover.js';
import { SmsSendError, type SmsFailureKind, type SmsMessage, type SmsProvider } from '../../src/sms/provider.js';
import { PHONE, post } from '../helpers/app.js';
import { aliyunHarness, tencentHarness, type ProviderHarness } from './harnesses.js';
import { createProviderTestApp, type ProviderTestApp } from './provider-app.js';

const message: SmsMessage = { to: PHONE, purpose: 'register', code: '123456', ttlMinutes: 5, text: 'text', messageId: 'm-1' };

function recordingLog(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** A provider whose next answers the test sets: a receipt, a failure kind, or a hang until aborted. */
function scriptedProvider(name: string) {
  let behaviour: SmsFailureKind | 'ok' | 'hang' | 'deaf' | 'throw' = 'ok';
  const send = vi.fn(async (_m: SmsMessage, signal: AbortSignal) => {
    switch (behaviour) {
      case 'ok':
        return { providerMessageId: `${name}-id` };
      case 'hang':
        return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new SmsSendError('unavailable', 'aborted'))));
      case 'deaf':
        // Ignores its signal entirely.
        return new Promise<never>(() => undefined);
      case 'throw':
        throw new TypeError('a bug in the provider');
      default:
        throw new SmsSendError(behaviour, `${name} says ${behaviour}`, { providerCode: `${name}.${behaviour}` });
    }
  });
  return {
    provider: { name, send } satisfies SmsProvider,
    send,
    set(next: typeof behaviour) {
      behaviour = next;
    },
  };
}

function setup(options: { failures?: number; halfOpenAfterMs?: number; timeoutMs?: number } = {}) {
  const first = scriptedProvider('first');
  const second = scriptedProvider('second');
  const log = recordingLog();
  const sms = failoverSmsProvider([first.provider, second.provider], {
    timeoutMs: options.timeoutMs ?? 5000,
    breaker: { failures: options.failures ?? 3, halfOpenAfterMs: options.halfOpenAfterMs ?? 30_000 },
    log,
  });
  return { first, second, log, sms, send: () => sms.send(message, new AbortController().signal) };
}

describe('failover between providers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses the first provider while it works', async () => {
    const { first, second, send } = setup();
    await expect(send()).resolves.toEqual({ providerMessageId: 'first-id' });
    expect(first.send).toHaveBeenCalledTimes(1);
    expect(second.send).not.toHaveBeenCalled();
  });

  it.each(['rejected', 'unavailable', 'throw'] as const)('moves on to the next provider after a %s failure, logging the first', async (failure) => {
    const { first, second, send, log } = setup();
    first.set(failure);
    await expect(send()).resolves.toEqual({ providerMessageId: 'second-id' });
    expect(second.send).toHaveBeenCalledTimes(1);
    expect(log.lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'sms provider failed, trying the next one', obj: expect.objectContaining({ provider: 'first', phone: '+86138****8000' }) })]);
  });

  it.each(['invalid_number', 'rate_limited'] as const)('stops at a %s verdict: another provider would be told the same', async (verdict) => {
    const { first, second, send } = setup();
    first.set(verdict);
    await expect(send()).rejects.toMatchObject({ kind: verdict, providerCode: `first.${verdict}` });
    expect(second.send).not.toHaveBeenCalled();
  });

  it('fails with the last provider failure when every provider fails', async () => {
    const { first, second, send } = setup();
    first.set('unavailable');
    second.set('rejected');
    await expect(send()).rejects.toMatchObject({ kind: 'rejected', providerCode: 'second.rejected' });
  });

  it('gives a hung first provider only its share of the deadline, so the second still answers', async () => {
    const { first, second, sms } = setup({ timeoutMs: 600 });
    first.set('hang');
    const outer = new AbortController();
    await expect(sms.send(message, outer.signal)).resolves.toEqual({ providerMessageId: 'second-id' });
    const firstSignal = first.send.mock.calls[0]?.[1];
    expect(firstSignal?.aborted).toBe(true);
    expect(outer.signal.aborted).toBe(false);
    expect(second.send).toHaveBeenCalledTimes(1);
  });

  it('moves on from a provider that ignores its abort signal', async () => {
    const { first, second, sms } = setup({ timeoutMs: 600 });
    first.set('deaf');
    await expect(sms.send(message, new AbortController().signal)).resolves.toEqual({ providerMessageId: 'second-id' });
    expect(second.send).toHaveBeenCalledTimes(1);
  });

  it('tries no further provider once the send as a whole was aborted', async () => {
    const { first, second, sms } = setup();
    first.set('hang');
    const outer = new AbortController();
    const sending = sms.send(message, outer.signal);
    outer.abort();
    await expect(sending).rejects.toMatchObject({ kind: 'unavailable' });
    expect(second.send).not.toHaveBeenCalled();
  });

  it('opens the circuit after repeated failures, skips the provider, then probes it after the pause', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { first, second, send } = setup({ failures: 2, halfOpenAfterMs: 30_000 });
    first.set('unavailable');
    await send();
    await send();
    expect(first.send).toHaveBeenCalledTimes(2);

    // Open: the first provider is not even called.
    await expect(send()).resolves.toEqual({ providerMessageId: 'second-id' });
    expect(first.send).toHaveBeenCalledTimes(2);
    expect(second.send).toHaveBeenCalledTimes(3);

    // After the pause one send probes it; it works again, so the circuit closes.
    first.set('ok');
    vi.setSystemTime(Date.now() + 30_001);
    await expect(send()).resolves.toEqual({ providerMessageId: 'first-id' });
    await expect(send()).resolves.toEqual({ providerMessageId: 'first-id' });
    expect(first.send).toHaveBeenCalledTimes(4);
  });

  it('does not count verdicts about numbers against the provider', async () => {
    const { first, send } = setup({ failures: 2 });
    first.set('invalid_number');
    for (let i = 0; i < 4; i += 1) await expect(send()).rejects.toMatchObject({ kind: 'invalid_number' });
    first.set('ok');
    await expect(send()).resolves.toEqual({ providerMessageId: 'first-id' });
    expect(first.send).toHaveBeenCalledTimes(5);
  });
});

describe('notices (messages without a code)', () => {
  const notice: SmsMessage = { ...message, kind: 'notice', code: '', text: 'your number was changed' };

  it('skip template-only providers without opening their circuit, so codes still go out', async () => {
    const templateOnly = scriptedProvider('template');
    const sms = failoverSmsProvider([{ ...templateOnly.provider, sendsNotices: false }], {
      timeoutMs: 5000,
      breaker: { failures: 2, halfOpenAfterMs: 30_000 },
      log: recordingLog(),
    });
    for (let i = 0; i < 5; i += 1) {
      await expect(sms.send(notice, new AbortController().signal)).rejects.toMatchObject({ kind: 'rejected' });
    }
    expect(templateOnly.send).not.toHaveBeenCalled();
    await expect(sms.send(message, new AbortController().signal)).resolves.toEqual({ providerMessageId: 'template-id' });
    expect(sms.sendsNotices).toBe(false);
  });

  it('go to the first provider that can carry free text', async () => {
    const templateOnly = scriptedProvider('template');
    const freeText = scriptedProvider('free');
    const sms = failoverSmsProvider([{ ...templateOnly.provider, sendsNotices: false }, freeText.provider], {
      timeoutMs: 5000,
      breaker: { failures: 2, halfOpenAfterMs: 30_000 },
      log: recordingLog(),
    });
    await expect(sms.send(notice, new AbortController().signal)).resolves.toEqual({ providerMessageId: 'free-id' });
    expect(templateOnly.send).not.toHaveBeenCalled();
    expect(sms.sendsNotices).toBeUndefined();
  });
});

describe('SMS_PROVIDER=tencent,aliyun through both fakes', () => {
  let tencent: ProviderHarness;
  let aliyun: ProviderHarness;
  let t: ProviderTestApp;
  beforeAll(async () => {
    [tencent, aliyun] = await Promise.all([tencentHarness(), aliyunHarness()]);
  });
  afterAll(async () => {
    await Promise.all([tencent.close(), aliyun.close()]);
  });
  afterEach(async () => {
    tencent.setOutage(undefined);
    tencent.failNumber(PHONE, undefined);
    await t.close();
  });
  const start = (env: Record<string, string> = {}) =>
    createProviderTestApp({ ...tencent.env, ...aliyun.env, SMS_PROVIDER: 'tencent,aliyun', ...env });

  it('sends through Aliyun while Tencent answers 5xx, and the client sees one answer', async () => {
    t = await start();
    tencent.setOutage('http_5xx');
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res).toMatchObject({ status: 200, body: { sent: true } });
    const code = aliyun.lastCode(PHONE);
    expect((await post(t.app, '/api/register', { phone: PHONE, code, password: 'correct horse battery' })).status).toBe(201);
  });

  it("does not ask Aliyun when Tencent says the number is wrong", async () => {
    t = await start();
    tencent.failNumber(PHONE, 'invalid_number');
    const before = aliyun.requestCount();
    const res = await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' });
    expect(res.body.error.code).toBe('invalid_phone');
    expect(aliyun.requestCount()).toBe(before);
  });

  it('skips Tencent once its circuit is open', async () => {
    t = await start({ SMS_CIRCUIT_FAILURES: '2' });
    tencent.setOutage('http_5xx');
    const phones = ['+8613800138001', '+8613800138002', '+8613800138003'];
    const tencentBefore = tencent.requestCount();
    for (const phone of phones) expect((await post(t.app, '/api/sms/send', { phone, purpose: 'register' })).status).toBe(200);
    // Two failures opened the circuit; the third send went straight to Aliyun.
    expect(tencent.requestCount() - tencentBefore).toBe(2);
    // A skipped provider made no attempt, so the message log has none; the log says why it was skipped.
    expect((await t.messageRows()).filter((r) => r.provider === 'tencent').map((r) => r.error_code)).toEqual(['unavailable', 'unavailable']);
    expect(t.logs.some((l) => l.provider === 'tencent' && l.providerCode === 'circuit_open')).toBe(true);
  });
});
