import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Regression for issue 9: every response was "Default Response", error codes a bare string, examples "string". */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Json;
  let operations: { name: string; op: Json }[];
  beforeAll(async () => {
    // With the callback token, so the delivery-report routes exist and are documented.
    t = await createTestApp({ env: { SMS_CALLBACK_TOKEN: 'callback-token-callback-token-0123' } });
    const res = await t.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
    operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ name: `${m.toUpperCase()} ${path}`, op: item[m] as Json })),
    );
  });
  afterAll(() => t.close());

  /** Follows a local $ref. */
  const deref = (schema: Json): Json => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)] : schema);

  it('documents the health checks and the delivery-report callbacks beside the API', () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/api/sms/callback/tencent/{token}', '/api/sms/callback/aliyun/{token}', '/api/sms/send']),
    );
    expect(doc.paths['/readyz'].get.responses['503'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ReadinessResponse' });
  });

  it('describes every response, and names every success and request schema', () => {
    expect(JSON.stringify(doc)).not.toContain('Default Response');
    for (const { name, op } of operations) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        expect(response.description, `${name} ${status}`).toMatch(/\w/);
        const schema = response.content?.['application/json']?.schema;
        if (status.startsWith('2') && schema) expect(schema.$ref, `${name} ${status} has a named schema`).toMatch(/^#\/components\/schemas\/\w+$/);
      }
      const body = op.requestBody?.content?.['application/json'];
      if (body) expect(body.schema.$ref, `${name} request body`).toMatch(/^#\/components\/schemas\/\w+Body$|^#\/components\/schemas\/\w+Reports$/);
    }
  });

  it('ErrorResponse.code is the enum of the catalogue', () => {
    const code = doc.components.schemas.ErrorResponse.properties.error.properties.code;
    expect(code.enum.sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('every operation lists the error codes it answers, each from the catalogue under its own status', () => {
    for (const { name, op } of operations) {
      const errorStatuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      if (!['GET /healthz', 'GET /readyz'].includes(name)) expect(errorStatuses, name).toContain('500');
      for (const status of errorStatuses) {
        const response = op.responses[status];
        const schema = deref(response.content['application/json'].schema);
        if (schema.title === 'ReadinessResponse') continue;
        const codes: string[] = schema.properties.error.properties.code.enum;
        expect(codes.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(ERRORS, `${name}: ${code}`).toHaveProperty(code);
          expect(ERRORS[code as keyof typeof ERRORS].status, `${name}: ${code} under ${status}`).toBe(Number(status));
          expect(response.description, `${name} ${status} names ${code}`).toContain(`\`${code}\``);
          expect(response.content['application/json'].examples[code].value.error.code).toBe(code);
        }
      }
    }
    const send = doc.paths['/api/sms/send'].post.responses;
    expect(send['400'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['invalid_request', 'invalid_phone', 'captcha_required', 'captcha_invalid']),
    );
    expect(Object.keys(send)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409', '413', '429', '500', '502', '503']));
  });

  it('request bodies carry realistic examples', () => {
    const example = (path: string) => doc.paths[path].post.requestBody.content['application/json'].example;
    expect(example('/api/sms/send')).toMatchObject({ phone: '13800138000', purpose: 'register' });
    expect(deref({ $ref: '#/components/schemas/RegisterBody' }).properties).toMatchObject({
      phone: { example: '13800138000' },
      code: { example: '123456' },
    });
    expect(JSON.stringify(doc)).not.toMatch(/"examples?":"string"/);
  });

  it('has a bearer scheme for the session token, required by the routes that need a session', () => {
    expect(doc.components.securitySchemes.sessionToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'sms_verify_session' });
    for (const path of ['/api/me', '/api/2fa', '/api/account/activity']) {
      expect(doc.paths[path].get.security, path).toEqual([{ sessionToken: [] }, { sessionCookie: [] }]);
    }
    // Optional for sending a code: only change_phone needs the session.
    expect(doc.paths['/api/sms/send'].post.security).toContainEqual({});
    expect(doc.paths['/api/register'].post.security).toBeUndefined();
  });

  it('a token pasted into "Authorize" works: the Bearer header is what the API reads', async () => {
    const res = await t.app.inject({ url: '/api/me', headers: { authorization: 'Bearer not-a-session' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
  });
});
