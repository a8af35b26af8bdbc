import { afterEach, describe, expect, it } from 'vitest';
import { CALLBACK_TOKEN, createProviderTestApp, type ProviderTestApp } from './provider-app.js';

const tencentReport = [{ sid: 'x', report_status: 'SUCCESS', errmsg: 'DELIVRD', mobile: '13800138000' }];

describe('delivery-report callbacks', () => {
  let t: ProviderTestApp;
  afterEach(async () => {
    await t.close();
  });
  const inject = (url: string, payload: unknown, remoteAddress = '127.0.0.1') =>
    t.app.inject({ method: 'POST', url, payload: payload as object, remoteAddress, headers: { 'content-type': 'application/json' } });

  it('do not exist while SMS_CALLBACK_TOKEN is unset', async () => {
    t = await createProviderTestApp({ SMS_CALLBACK_TOKEN: '' });
    for (const provider of ['tencent', 'aliyun']) {
      const res = await inject(`/api/sms/callback/${provider}/${CALLBACK_TOKEN}`, tencentReport);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
  });

  it('answer a wrong or missing token exactly like a missing route, before reading the body', async () => {
    t = await createProviderTestApp({});
    const missingRoute = await inject('/api/sms/callback/nowhere', tencentReport);
    for (const url of ['/api/sms/callback/tencent/wrong', `/api/sms/callback/tencent/${CALLBACK_TOKEN}x`, '/api/sms/callback/tencent']) {
      const res = await inject(url, tencentReport);
      expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 404, body: missingRoute.json() });
    }
    // The token is checked before the body is parsed: a stranger's garbage is not even read.
    const garbage = await t.app.inject({ method: 'POST', url: '/api/sms/callback/aliyun/wrong', payload: '{not json', headers: { 'content-type': 'application/json' } });
    expect(garbage.statusCode).toBe(404);
  });

  it('accept only sources in SMS_CALLBACK_ALLOWED_IPS when it is set', async () => {
    t = await createProviderTestApp({ SMS_CALLBACK_ALLOWED_IPS: '10.0.0.0/8, 2001:db8::/32' });
    const url = `/api/sms/callback/tencent/${CALLBACK_TOKEN}`;
    expect((await inject(url, tencentReport, '127.0.0.1')).statusCode).toBe(404);
    expect((await inject(url, tencentReport, '11.0.0.1')).statusCode).toBe(404);
    expect((await inject(url, tencentReport, '10.2.3.4')).statusCode).toBe(200);
    expect((await inject(url, tencentReport, '::ffff:10.2.3.4')).statusCode).toBe(200);
    expect((await inject(url, tencentReport, '2001:db8::1')).statusCode).toBe(200);
  });

  it.each([
    ['an object instead of an array', { sid: 'x', report_status: 'SUCCESS' }],
    ['a report without sid', [{ report_status: 'SUCCESS' }]],
    ['a numeric sid', [{ sid: 1, report_status: 'SUCCESS' }]],
    ['a string', 'hello'],
    ['null', null],
    ['more than 1000 reports', Array.from({ length: 1001 }, () => ({ sid: 'x', report_status: 'SUCCESS' }))],
  ])('answer invalid_request, never 500, for %s', async (_label, payload) => {
    t = await createProviderTestApp({});
    for (const provider of ['tencent', 'aliyun']) {
      const res = await inject(`/api/sms/callback/${provider}/${CALLBACK_TOKEN}`, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
  });

  it('refuse a body over 512 KiB with payload_too_large', async () => {
    t = await createProviderTestApp({});
    const huge = [{ sid: 'x', report_status: 'SUCCESS', description: 'x'.repeat(600 * 1024) }];
    const res = await inject(`/api/sms/callback/tencent/${CALLBACK_TOKEN}`, huge);
    expect(res.statusCode).toBe(413);
  });
});
