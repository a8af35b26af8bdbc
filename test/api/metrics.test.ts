import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsListener } from '../../src/http/metrics.js';
import { silentLog } from '../helpers/backends.js';
import { createTestApp, PHONE, post, type TestApp } from '../helpers/app.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample line, e.g. sample(text, 'sms_verify_checks_total{surface="api",result="valid"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async (t: TestApp) =>
  (await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body;

describe('GET /metrics', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('answers 404 on the main port without METRICS_TOKEN', async () => {
    t = await createTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('with METRICS_TOKEN answers only the right Bearer token, and lists every metric', async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: TOKEN } });
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', TOKEN, `Basic ${TOKEN}`]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(404);
    }
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'sms_verify_sms_sent_total',
      'sms_verify_sms_fee_total',
      'sms_verify_checks_total',
      'sms_verify_limit_refusals_total',
      'sms_verify_fraud_guard_blocked_prefixes',
      'sms_verify_provider_circuit_open',
      'sms_verify_daily_budget_used_ratio',
      'sms_verify_http_request_duration_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(res.body).toContain(`# TYPE ${name} `);
    }
  });

  it('its counters move with the traffic', async () => {
    t = await createTestApp({
      env: { METRICS_TOKEN: TOKEN, SMS_PROVIDER: 'console', SMS_DAILY_BUDGET: '10', CHECKS_PER_IP_HOURLY: '2', FRAUD_GUARD_MIN_SENDS: '2' },
      providerFromConfig: true,
    });
    expect((await post(t.app, '/api/sms/send', { phone: PHONE, purpose: 'register' })).status).toBe(200);
    expect((await post(t.app, '/api/register', { phone: PHONE, code: '000000', password: 'correct horse battery' })).status).toBe(400);
    expect((await post(t.app, '/api/register', { phone: PHONE, code: '000001', password: 'correct horse battery' })).status).toBe(400);
    expect((await post(t.app, '/api/register', { phone: PHONE, code: '000002', password: 'correct horse battery' })).status).toBe(429);
    // A second send to the same prefix trips the guard (two sends, none verified); the third is refused.
    expect((await post(t.app, '/api/sms/send', { phone: '+8613800138001', purpose: 'register' })).status).toBe(200);
    expect((await post(t.app, '/api/sms/send', { phone: '+8613800138002', purpose: 'register' })).status).toBe(403);
    await t.app.inject({ method: 'GET', url: '/api/no/such/123' });

    const text = await scrape(t);
    expect(sample(text, 'sms_verify_sms_sent_total{provider="console",status="sent",country="CN"}')).toBe(2);
    expect(sample(text, 'sms_verify_checks_total{surface="api",result="code_invalid"}')).toBe(2);
    expect(sample(text, 'sms_verify_checks_total{surface="api",result="rate_limited"}')).toBe(1);
    expect(sample(text, 'sms_verify_limit_refusals_total{limit="checks_ip_h"}')).toBe(1);
    expect(sample(text, 'sms_verify_limit_refusals_total{limit="fraud_guard"}')).toBe(1);
    expect(sample(text, 'sms_verify_fraud_guard_blocked_prefixes{kind="prefix"}')).toBe(1);
    expect(sample(text, 'sms_verify_daily_budget_used_ratio')).toBeCloseTo(0.2);
    expect(sample(text, 'sms_verify_provider_circuit_open{provider="console"}')).toBe(0);
    expect(sample(text, 'sms_verify_http_request_duration_seconds_count{route="/api/sms/send",method="POST",status="200"}')).toBe(2);
    expect(sample(text, 'sms_verify_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"}')).toBe(1);
    // No label carries a number or a URL.
    expect(text).not.toContain('13800138');
    expect(text).not.toContain('/api/no/such');
  });

  it('the METRICS_PORT listener serves /metrics without a token and nothing else', async () => {
    t = await createTestApp();
    const server = await startMetricsListener(t.services.metrics.registry, { host: '127.0.0.1', port: 0, log: silentLog });
    try {
      const { port } = server.address() as AddressInfo;
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('# TYPE sms_verify_checks_total counter');
      const other = await fetch(`http://127.0.0.1:${port}/api/me`);
      expect(other.status).toBe(404);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe('not_found');
    } finally {
      server.close();
    }
  });
});
