import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { PublicUser } from '../domain/accounts.js';
import type { Services } from '../services.js';
import { sessionTokenOf } from './session-cookie.js';
import { installEndUserErrorHandler } from './error-handler.js';
import { accountSettingsRoutes } from './routes/account-settings.js';
import { adminRoutes } from './routes/admin.js';
import { accountRoutes } from './routes/accounts.js';
import { smsCallbackRoutes } from './routes/sms-callbacks.js';
import { tokenRoutes } from './routes/tokens.js';
import { twoFactorRoutes } from './routes/two-factor.js';
import { verificationRoutes } from './routes/verification.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user of this request's session (Bearer token or cookie); throws unauthorized without one. */
    sessionUser: () => Promise<PublicUser>;
  }
}

/**
 * The end-user API (/api/*, the pages' protocol), an encapsulated plugin with its own error
 * handler: `{"error": {"code", "message", …}}` with the catalogue's statuses. JSON bodies only,
 * as the root app parses them.
 */
export const endUserApi: FastifyPluginAsync<{ services: Services; config: Config }> = async (app, { services, config }) => {
  installEndUserErrorHandler(app);
  app.decorateRequest('sessionUser', null as unknown as FastifyRequest['sessionUser']);
  // Looked up on first use and then kept for the request: routes without a session cost no lookup.
  app.addHook('onRequest', async (request) => {
    let user: Promise<PublicUser> | undefined;
    request.sessionUser = () => (user ??= services.accounts.authenticate(sessionTokenOf(request)));
  });
  await app.register(verificationRoutes, { services });
  await app.register(accountRoutes, { services });
  await app.register(smsCallbackRoutes, { services, callback: config.smsCallback });
  await app.register(twoFactorRoutes, { services });
  await app.register(accountSettingsRoutes, { services });
  await app.register(tokenRoutes, { services });
  await app.register(adminRoutes, { admin: services.admin, accounts: services.accounts });
};
