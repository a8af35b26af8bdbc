import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { createVerifyTestApp, type VerifyTestApp } from '../verify-api/harness.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const TO = '+8613800138077';

describe('verification.approved (Verify API)', () => {
  let receiver: WebhookReceiver;
  let t: VerifyTestApp;
  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
    t = await createVerifyTestApp({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('an approved verification reaches the receiver, signed, with its sid and no code; a wrong code sends nothing', async () => {
    const service = await t.createService();
    const started = await t.call('POST', `/v2/Services/${service}/Verifications`, { To: TO, Channel: 'sms' });
    expect(started.status).toBe(201);
    const code = /(\d{6})/.exec(t.sms.sent.at(-1)!.text)![1]!;
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await t.call('POST', `/v2/Services/${service}/VerificationCheck`, { To: TO, Code: wrong })).body.status).toBe('pending');
    await t.services.webhooks.worker!.deliverDue();
    expect(receiver.received.filter((e) => e.type === 'verification.approved')).toHaveLength(0);

    expect((await t.call('POST', `/v2/Services/${service}/VerificationCheck`, { To: TO, Code: code })).body.status).toBe('approved');
    await t.services.webhooks.worker!.deliverDue();
    const approved = receiver.received.filter((e) => e.type === 'verification.approved');
    expect(approved).toHaveLength(1);
    expect(approved[0]!.data).toMatchObject({ phone: TO, verificationSid: started.body.sid, serviceSid: service });
    expect(approved[0]!.raw).not.toContain(code);
  });
});
