import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { VerifyApiError } from '../../src/domain/verify-api.js';
import { DependencyUnavailableError } from '../../src/errors.js';
import { twilioErrorOf } from '../../src/http/verify-api/errors.js';

const CASES: [string, unknown, number, number][] = [
  ['unknown resource', new VerifyApiError('not_found'), 20404, 404],
  ['invalid parameter', new VerifyApiError('invalid_parameter', 'To'), 60200, 400],
  ['invalid phone from the engine or the provider', new AppError('invalid_phone'), 60200, 400],
  ['region', new AppError('region_not_allowed'), 60605, 403],
  ['burned code', new AppError('code_attempts_exceeded'), 60202, 429],
  ['wrong-code lockout', new AppError('rate_limited', { retryAfter: 9 }, { reason: 'wrong_code_lockout' }), 60202, 429],
  ['sends per verification', new AppError('rate_limited', {}, { reason: 'max_sends' }), 60203, 429],
  ['cooldown', new AppError('rate_limited', { retryAfter: 30 }, { reason: 'cooldown' }), 60212, 429],
  ['another limit', new AppError('rate_limited', { retryAfter: 30 }), 20429, 429],
  ['daily budget', new AppError('service_unavailable', {}, { reason: 'daily_budget' }), 20503, 503],
  ['provider failure', new AppError('sms_send_failed'), 20503, 503],
  ['a dependency down', new DependencyUnavailableError('redis', { cause: new Error('ECONNREFUSED') }), 20503, 503],
  ['a bug', new TypeError('x is undefined'), 20500, 500],
];

describe('Verify API error mapping', () => {
  it.each(CASES)('%s', (_label, err, code, status) => {
    expect(twilioErrorOf(err)).toMatchObject({ code, status });
  });

  it('names the parameter, and carries Retry-After for waits', () => {
    expect(twilioErrorOf(new VerifyApiError('invalid_parameter', 'Channel')).message).toBe('Invalid parameter: Channel');
    expect(twilioErrorOf(new AppError('rate_limited', { retryAfter: 30 }, { reason: 'cooldown' })).retryAfter).toBe(30);
  });

  it('docs/verify-api.md lists every code with the status the API answers', () => {
    const doc = readFileSync(new URL('../../docs/verify-api.md', import.meta.url), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| (\d{5}) \| (\d{3}) \|/gm)].map((m) => [Number(m[1]), Number(m[2])]));
    for (const [label, , code, status] of CASES) expect(rows.get(code), `${label}: ${code}`).toBe(status);
    expect(rows.get(20003)).toBe(401);
  });
});
