import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { CaptchaResponse, ErrorResponse, PublicConfigResponse, SendSmsBody, SendSmsResponse } from '../schemas.js';
import { clientOf } from '../client-context.js';

/** Steps 1 and 2 of the protocol: the captcha and the SMS send. */
export const verificationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/config',
    { schema: { tags: ['verification'], summary: 'Public settings the pages need', response: { 200: PublicConfigResponse } } },
    async () => services.publicConfig,
  );

  app.get(
    '/api/captcha',
    {
      schema: {
        tags: ['verification'],
        summary: 'A new image captcha (valid 5 minutes, burned by its first use)',
        response: { 200: CaptchaResponse, 404: ErrorResponse, 429: ErrorResponse },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return services.verification.issueCaptcha(clientOf(request));
    },
  );

  app.post(
    '/api/sms/send',
    {
      schema: {
        tags: ['verification'],
        summary: 'Send a verification code by SMS',
        body: SendSmsBody,
        response: { 200: SendSmsResponse, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (request) => {
      const { purpose } = request.body;
      const userId =
        purpose === 'change_phone' ? (await request.sessionUser()).id : undefined;
      const result = await services.verification.send({ ...request.body, userId, client: clientOf(request) });
      return { sent: true as const, expiresIn: result.expiresIn, resendAfter: result.resendAfter };
    },
  );
};
