import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.js';
import { BODY_ERRORS, SESSION_OPTIONAL, errorResponses } from '../openapi.js';
import { CaptchaResponse, PublicConfigResponse, SendSmsBody, SendSmsResponse } from '../schemas.js';
import { clientOf } from '../client-context.js';

/** Steps 1 and 2 of the protocol: the captcha and the SMS send. */
export const verificationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/config',
    { schema: { tags: ['verification'], summary: 'Public settings the pages need', response: { 200: PublicConfigResponse, ...errorResponses([]) } } },
    async () => services.publicConfig,
  );

  app.get(
    '/api/captcha',
    {
      schema: {
        tags: ['verification'],
        summary: 'A new image captcha (valid 5 minutes, burned by its first use)',
        response: { 200: CaptchaResponse, ...errorResponses(['not_found', 'rate_limited', 'service_unavailable']) },
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
        description: 'A `change_phone` code needs the session; the other purposes do not.',
        body: SendSmsBody,
        security: SESSION_OPTIONAL,
        response: {
          200: SendSmsResponse,
          ...errorResponses([
            ...BODY_ERRORS,
            'invalid_phone',
            'region_not_allowed',
            'rate_limited',
            'captcha_required',
            'captcha_invalid',
            'phone_taken',
            'phone_not_registered',
            'unauthorized',
            'sms_send_failed',
            'service_unavailable',
          ]),
        },
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
