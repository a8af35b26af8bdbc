import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { ERRORS } from '../../errors.js';
import { BODY_ERRORS, errorResponses } from '../openapi.js';
import type { Services } from '../../services.js';
import { applyDeliveryReports, fromAliyunReport, fromTencentReport } from '../../sms/delivery-reports.js';

/** Providers batch reports; a batch is larger than the 16 KiB a client request may be. */
const CALLBACK_BODY_LIMIT = 512 * 1024;
const MAX_REPORTS = 1000;

const Token = Type.Object({ token: Type.String({ maxLength: 256, description: 'SMS_CALLBACK_TOKEN' }) });

const TencentReports = Type.Array(
  Type.Object({
    sid: Type.String({ minLength: 1, maxLength: 128 }),
    report_status: Type.String({ maxLength: 32 }),
    errmsg: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  {
    maxItems: MAX_REPORTS,
    title: 'TencentStatusReports',
    examples: [[{ sid: '2019:538884*********', report_status: 'SUCCESS', errmsg: 'DELIVRD' }]],
  },
);

const AliyunReports = Type.Array(
  Type.Object({
    biz_id: Type.String({ minLength: 1, maxLength: 128 }),
    success: Type.Boolean(),
    err_code: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  { maxItems: MAX_REPORTS, title: 'AliyunSmsReports', examples: [[{ biz_id: '932702304080415357^0', success: true, err_code: 'DELIVERED' }]] },
);

const TencentAnswer = Type.Object(
  { result: Type.Literal(0), errmsg: Type.String() },
  { title: 'TencentCallbackAnswer', description: 'Received; anything else makes Tencent retry' },
);
const AliyunAnswer = Type.Object(
  { code: Type.Literal(0), msg: Type.String() },
  { title: 'AliyunCallbackAnswer', description: 'Received; anything else makes Aliyun retry' },
);
/** A wrong token or source is not_found, as if the route did not exist. */
const CALLBACK_ERRORS = errorResponses([...BODY_ERRORS, 'not_found', 'service_unavailable']);
const documented = (provider: string, answer: typeof TencentAnswer | typeof AliyunAnswer) => ({
  tags: ['delivery-reports'],
  summary: `Delivery reports from ${provider}: set this URL, with your SMS_CALLBACK_TOKEN, in its console`,
  description: 'Exists only with SMS_CALLBACK_TOKEN set, and answers only sources in SMS_CALLBACK_ALLOWED_IPS when that is set (see docs/providers.md).',
  params: Token,
  response: { 200: answer, ...CALLBACK_ERRORS },
});

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Delivery reports from Tencent and Aliyun: POST /api/sms/callback/{tencent,aliyun}/TOKEN.
 * The providers do not sign these callbacks, so they exist only when SMS_CALLBACK_TOKEN is set,
 * answer 404 to a wrong token or a source outside SMS_CALLBACK_ALLOWED_IPS (as if absent), and
 * log at warn level only, because the request line carries the token.
 */
export const smsCallbackRoutes: FastifyPluginAsyncTypebox<{ services: Services; callback: Config['smsCallback'] }> = async (
  app,
  { services, callback },
) => {
  const { token } = callback;
  if (!token) return;
  const expected = digest(token);
  const allowed = new BlockList();
  for (const range of callback.allowedIps) allowed.addSubnet(range.address, range.prefix, range.family);

  const sourceAllowed = (ip: string) => {
    if (callback.allowedIps.length === 0) return true;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    return v4 ? allowed.check(v4, 'ipv4') : allowed.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  };

  // Before the body is read: a stranger learns nothing, not even that the route exists.
  const admit = async (request: FastifyRequest, reply: FastifyReply) => {
    const given = (request.params as { token?: unknown }).token;
    // Compared as hashes in constant time, so timing does not reveal how much of the token matched.
    const tokenOk = typeof given === 'string' && timingSafeEqual(digest(given), expected);
    if (!tokenOk || !sourceAllowed(request.ip)) {
      request.log.warn({ ip: request.ip }, 'sms callback refused');
      return reply.code(404).send({ error: { code: 'not_found', message: ERRORS.not_found.message } });
    }
  };
  const routeOptions = { logLevel: 'warn' as const, bodyLimit: CALLBACK_BODY_LIMIT, onRequest: admit };

  app.post(
    '/api/sms/callback/tencent/:token',
    { ...routeOptions, schema: { ...documented('Tencent Cloud SMS', TencentAnswer), body: TencentReports } },
    async (request) => {
      const result = await applyDeliveryReports(services.smsMessages, request.body.map(fromTencentReport), services.now());
      // The app's own logger: the request's is held at warn so the token in the URL stays out of the log.
      app.log.info({ provider: 'tencent', ...result }, 'delivery reports applied');
      // The answer Tencent's callback expects; anything else makes it retry.
      return { result: 0 as const, errmsg: 'OK' };
    },
  );

  app.post(
    '/api/sms/callback/aliyun/:token',
    { ...routeOptions, schema: { ...documented('Aliyun SMS', AliyunAnswer), body: AliyunReports } },
    async (request) => {
      const result = await applyDeliveryReports(services.smsMessages, request.body.map(fromAliyunReport), services.now());
      app.log.info({ provider: 'aliyun', ...result }, 'delivery reports applied');
      return { code: 0 as const, msg: '接收成功' };
    },
  );
};
