import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { installEndUserErrorHandler } from './error-handler.js';
import { accountSettingsRoutes } from './routes/account-settings.js';
import { accountRoutes } from './routes/accounts.js';
import { smsCallbackRoutes } from './routes/sms-callbacks.js';
import { twoFactorRoutes } from './routes/two-factor.js';
import { verificationRoutes } from './routes/verification.js';

/**
 * The end-user API (/api/*, the pages' protocol), an encapsulated plugin with its own error
 * handler: `{"error": {"code", "message", …}}` with the catalogue's statuses. JSON bodies only,
 * as the root app parses them.
 */
export const endUserApi: FastifyPluginAsync<{ services: Services; config: Config }> = async (app, { services, config }) => {
  installEndUserErrorHandler(app);
  await app.register(verificationRoutes, { services });
  await app.register(accountRoutes, { services });
  await app.register(smsCallbackRoutes, { services, callback: config.smsCallback });
  await app.register(twoFactorRoutes, { services });
  await app.register(accountSettingsRoutes, { services });
};
