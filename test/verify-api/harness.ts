import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { createTestApp, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { backendAvailable, postgresTestSchema, redisTestPrefix, TEST_REDIS_URL } from '../helpers/backends.js';

/** The backends the Verify API suites run on: SQLite always; Redis + PostgreSQL when the test servers are there. */
export function verifyBackends(): { name: string; env: () => Promise<Record<string, string>> }[] {
  const both = backendAvailable('TEST_DATABASE_URL') && backendAvailable('TEST_REDIS_URL');
  const variants: { name: string; env: () => Promise<Record<string, string>> }[] = [{ name: 'SQLite', env: async () => ({}) }];
  if (both) {
    const schema = postgresTestSchema();
    const prefix = redisTestPrefix();
    variants.push({
      name: 'Redis + PostgreSQL',
      env: async () => {
        await schema.create();
        return { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix };
      },
    });
  }
  return variants;
}

export interface VerifyTestApp extends TestApp {
  /** Basic credentials of a live key. */
  auth: string;
  keySid: string;
  call(method: InjectOptions['method'], url: string, body?: Record<string, unknown>, options?: { json?: boolean; auth?: string | null }): Promise<{
    status: number;
    body: any;
    headers: Record<string, unknown>;
  }>;
  createService(fields?: Record<string, unknown>): Promise<string>;
}

export const basic = (sid: string, secret: string) => `Basic ${Buffer.from(`${sid}:${secret}`).toString('base64')}`;

/** A test app with one API key, and a caller that sends form bodies as Twilio's SDKs do (or JSON). */
export async function createVerifyTestApp(options: TestAppOptions = {}): Promise<VerifyTestApp> {
  const t = await createTestApp(options);
  const key = await t.services.apiKeys.create('test');
  const auth = basic(key.sid, key.secret);
  const call: VerifyTestApp['call'] = async (method, url, body, { json = false, auth: authorization = auth } = {}) => {
    const headers: Record<string, string> = {};
    if (authorization) headers.authorization = authorization;
    let payload: string | undefined;
    if (body) {
      headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
      payload = json ? JSON.stringify(body) : new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)] as [string, string])).toString();
    }
    const res = await t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
  };
  return {
    ...t,
    auth,
    keySid: key.sid,
    call,
    async createService(fields = {}) {
      const res = await call('POST', '/v2/Services', { FriendlyName: 'Acme', ...fields });
      expect(res.status).toBe(201);
      return res.body.sid as string;
    },
  };
}

/** A Twilio-shaped error with the given code and status. */
export function expectTwilioError(res: { status: number; body: any }, code: number, status: number, label = '') {
  expect({ status: res.status, code: res.body?.code }, label).toEqual({ status, code });
  expect(res.body, label).toMatchObject({ status, more_info: `https://www.twilio.com/docs/errors/${code}` });
  expect(typeof res.body.message, label).toBe('string');
}
