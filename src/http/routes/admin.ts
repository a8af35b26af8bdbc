import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AdminService, UserDetail } from '../../domain/admin.js';
import type { AccountService } from '../../domain/accounts.js';
import { clientOf } from '../client-context.js';
import { BODY_ERRORS, SESSION_ERRORS, SESSION_REQUIRED, errorResponses } from '../openapi.js';
import { sessionTokenOf } from '../session-cookie.js';

/** What any admin route can answer besides its own: no session, not an operator, no 2FA, a bad input, an unknown id. */
const errors = errorResponses([...BODY_ERRORS, ...SESSION_ERRORS, 'operator_required', 'operator_two_factor_required', 'not_found']);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Millis = Type.Number({ description: 'Epoch milliseconds' });

const Windows = Type.Object({
  hour: Type.Object({ sent: Type.Integer(), verified: Type.Integer() }),
  day: Type.Object({ sent: Type.Integer(), verified: Type.Integer() }),
});
const ScopeFigures = Type.Object({
  scope: Type.String({ description: '"prefix:+86 1391234" or "country:CN"' }),
  kind: Type.String(),
  target: Type.String({ description: '"+86 1391234" or "CN"' }),
  windows: Windows,
});
const Block = Type.Object({
  scope: Type.String(),
  blockedAt: Millis,
  until: Millis,
  enforced: Type.Boolean({ description: 'false: FRAUD_GUARD=monitor only flagged it' }),
  window: Type.String(),
  sent: Type.Integer(),
  verified: Type.Integer(),
});
const Message = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  phoneMasked: Type.String(),
  purpose: Type.String(),
  status: Type.String(),
  errorCode: Nullable(Type.String()),
  fee: Nullable(Type.Number()),
  createdAt: Millis,
  updatedAt: Millis,
});
const UserDetailSchema = Type.Object({
  id: Type.String(),
  phone: Type.String(),
  createdAt: Millis,
  disabledAt: Nullable(Millis),
  twoFactorEnabled: Type.Boolean(),
  operator: Type.Boolean(),
  sessions: Type.Array(Type.Object({ createdAt: Millis, expiresAt: Millis })),
  activity: Type.Array(
    Type.Object({
      type: Type.String(),
      at: Millis,
      phoneMasked: Nullable(Type.String()),
      ip: Nullable(Type.String()),
      userAgent: Nullable(Type.String()),
      detail: Nullable(Type.String()),
    }),
  ),
}, { title: 'AdminUserResponse', description: 'A user as the console shows them' });
const OverviewSchema = Type.Object({
  since: Millis,
  smsPerHour: Type.Array(Type.Object({ hour: Millis, provider: Type.String(), status: Type.String(), count: Type.Integer(), fee: Type.Number() })),
  delivery: Type.Object({ delivered: Type.Integer(), undelivered: Type.Integer(), rate: Nullable(Type.Number()) }),
  fees: Type.Array(Type.Object({ provider: Type.String(), fee: Type.Number() })),
  countries: Type.Array(ScopeFigures),
  worstPrefixes: Type.Array(ScopeFigures),
  refusals: Type.Array(Type.Object({ limit: Type.String(), count: Type.Number() })),
  dailyBudget: Nullable(Type.Object({ used: Type.Integer(), budget: Type.Integer() })),
}, { title: 'AdminOverviewResponse', description: 'The figures of the overview page' });
const UserId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const KeySid = Type.Object({ sid: Type.String({ pattern: '^SK[0-9a-f]{32}$', description: 'The key sid, SK + 32 hex' }) });
const VerifyServiceSchema = Type.Object({
  sid: Type.String(),
  friendlyName: Type.String(),
  codeLength: Type.Integer(),
  psd2Enabled: Type.Boolean(),
  doNotShareWarningEnabled: Type.Boolean(),
  createdAt: Millis,
  updatedAt: Millis,
});
const ApiKeySchema = Type.Object({ sid: Type.String(), name: Type.String(), createdAt: Millis, revokedAt: Nullable(Millis) });
const DeliveryState = Type.Enum(['pending', 'delivered', 'failed']);
const DeliverySchema = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'The webhook-id header receivers deduplicate on' }),
  type: Type.String(),
  url: Type.String({ description: "The receiver's origin and path; a query or credentials show as …" }),
  state: DeliveryState,
  attempts: Type.Integer(),
  nextAttemptAt: Millis,
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Millis,
  deliveredAt: Nullable(Millis),
});
const Ok = (title: string, description: string) => Type.Object({ ok: Type.Literal(true) }, { title, description });
const StatusFilter = Type.Enum(['sent', 'failed', 'delivered', 'undelivered']);

const userView = (u: UserDetail) => ({ ...u, activity: u.activity.map(({ id: _id, userId: _user, ...event }) => event) });

/**
 * The admin console's API. Every route needs a signed-in operator with 2FA on: one hook checks it
 * before any handler runs, so a route cannot forget to.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<{ admin: AdminService; accounts: AccountService }> = async (app, { admin, accounts }) => {
  const operatorOf = new WeakMap<FastifyRequest, { userId: string; client: ReturnType<typeof clientOf> }>();
  app.addHook('preHandler', async (request, reply) => {
    const user = await accounts.authenticate(sessionTokenOf(request));
    await admin.requireOperator(user.id);
    operatorOf.set(request, { userId: user.id, client: clientOf(request) });
    void reply.header('cache-control', 'no-store');
  });
  const op = (request: FastifyRequest) => operatorOf.get(request)!;
  const tags = ['admin'];
  const security = SESSION_REQUIRED;

  app.get('/api/admin/me', { schema: { tags, security, summary: 'The operator signed in', response: { 200: Type.Object({ userId: Type.String() }, { title: 'AdminMeResponse', description: 'The operator signed in' }), ...errors } } }, async (request) => ({
    userId: op(request).userId,
  }));

  app.get(
    '/api/admin/overview',
    { schema: { tags, security, summary: 'SMS per hour for 48 hours, delivery rate, fees, conversion, refusals, the daily budget', response: { 200: OverviewSchema, ...errors } } },
    async () => admin.overview(),
  );

  app.get(
    '/api/admin/messages',
    {
      schema: {
        tags,
        security,
        summary: 'Search the message log (numbers masked), newest first',
        querystring: Type.Object({
          phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          status: Type.Optional(StatusFilter),
          provider: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
          from: Type.Optional(Type.Integer({ minimum: 0 })),
          to: Type.Optional(Type.Integer({ minimum: 0 })),
          before: Type.Optional(Type.Integer({ minimum: 0 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
        }),
        response: { 200: Type.Object({ messages: Type.Array(Message) }, { title: 'AdminMessagesResponse', description: 'Message log rows, numbers masked' }), ...errors },
      },
    },
    async (request) => {
      const { limit = 50, ...rest } = request.query;
      return { messages: await admin.messages({ ...rest, limit }) };
    },
  );

  app.post(
    '/api/admin/messages/:id/reveal',
    { schema: { tags, security, summary: 'The full number of one message (audited)', params: UserId, response: { 200: Type.Object({ phone: Type.String() }, { title: 'AdminRevealResponse', description: 'The full number (the reveal is audited)' }), ...errors } } },
    async (request) => ({ phone: await admin.revealPhone(op(request), request.params.id) }),
  );

  app.get(
    '/api/admin/users',
    {
      schema: {
        tags,
        security,
        summary: 'Find a user by number (audited)',
        querystring: Type.Object({ phone: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: UserDetailSchema, ...errors },
      },
    },
    async (request) => userView(await admin.findUser(op(request), request.query.phone)),
  );

  app.post(
    '/api/admin/users/:id/sessions/end',
    { schema: { tags, security, summary: "End every session of a user", params: UserId, response: { 200: Type.Object({ ended: Type.Integer() }, { title: 'AdminSessionsEndedResponse', description: 'How many sessions ended' }), ...errors } } },
    async (request) => ({ ended: await admin.endSessions(op(request), request.params.id) }),
  );

  app.post(
    '/api/admin/users/:id/disable',
    { schema: { tags, security, summary: 'Disable an account: no sign-in, no codes, every session ended', params: UserId, response: { 200: UserDetailSchema, ...errors } } },
    async (request) => userView(await admin.setDisabled(op(request), request.params.id, true)),
  );

  app.post(
    '/api/admin/users/:id/enable',
    { schema: { tags, security, summary: 'Re-enable a disabled account', params: UserId, response: { 200: UserDetailSchema, ...errors } } },
    async (request) => userView(await admin.setDisabled(op(request), request.params.id, false)),
  );

  app.get(
    '/api/admin/fraud-guard',
    {
      schema: {
        tags,
        security,
        summary: 'Blocked prefixes and countries, and the figures of the busiest ones',
        response: {
          200: Type.Object(
            { mode: Type.String(), blocks: Type.Array(Block), countries: Type.Array(ScopeFigures), prefixes: Type.Array(ScopeFigures) },
            { title: 'AdminFraudGuardResponse', description: 'The blocks and the busiest scopes' },
          ),
          ...errors,
        },
      },
    },
    async () => admin.fraudGuard(),
  );

  app.post(
    '/api/admin/fraud-guard/unblock',
    {
      schema: {
        tags,
        security,
        summary: 'Lift a block now (audited)',
        body: Type.Object({ scope: Type.String({ minLength: 1, maxLength: 64, pattern: '^(prefix|country):' }) }, { title: 'AdminUnblockBody', examples: [{ scope: 'prefix:+86 1391234' }] }),
        response: { 200: Type.Object({ ok: Type.Literal(true) }, { title: 'AdminUnblockResponse', description: 'The block is lifted' }), ...errors },
      },
    },
    async (request) => {
      await admin.unblock(op(request), request.body.scope);
      return { ok: true as const };
    },
  );

  app.get(
    '/api/admin/verify/services',
    {
      schema: {
        tags,
        security,
        summary: 'The Verify API services',
        response: { 200: Type.Object({ services: Type.Array(VerifyServiceSchema) }, { title: 'AdminVerifyServicesResponse', description: 'Every Verify service, oldest first' }), ...errors },
      },
    },
    async () => ({ services: await admin.verifyServices() }),
  );

  app.get(
    '/api/admin/api-keys',
    {
      schema: {
        tags,
        security,
        summary: 'The Verify API keys, live and revoked (never their secrets)',
        response: { 200: Type.Object({ keys: Type.Array(ApiKeySchema) }, { title: 'AdminApiKeysResponse', description: 'Every API key, without its secret' }), ...errors },
      },
    },
    async () => ({ keys: await admin.apiKeys() }),
  );

  app.post(
    '/api/admin/api-keys',
    {
      schema: {
        tags,
        security,
        summary: 'Create a Verify API key; its secret is in this answer only (audited)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { title: 'AdminCreateApiKeyBody', examples: [{ name: 'backend production' }] }),
        response: {
          201: Type.Object(
            { sid: Type.String(), secret: Type.String(), accountSid: Type.String({ description: 'The Twilio client takes (sid, secret, { accountSid })' }) },
            { title: 'AdminApiKeyCreatedResponse', description: 'The new key; the secret is shown once and only its keyed hash is stored' },
          ),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const created = await admin.createApiKey(op(request), request.body.name);
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/api/admin/api-keys/:sid/revoke',
    { schema: { tags, security, summary: 'Revoke a Verify API key at once, on every instance (audited)', params: KeySid, response: { 200: Ok('AdminApiKeyRevokedResponse', 'The key is refused from now on'), ...errors } } },
    async (request) => {
      await admin.revokeApiKey(op(request), request.params.sid);
      return { ok: true as const };
    },
  );

  app.get(
    '/api/admin/webhooks/deliveries',
    {
      schema: {
        tags,
        security,
        summary: 'The 100 most recent webhook deliveries (no payloads), newest first',
        querystring: Type.Object({ state: Type.Optional(DeliveryState) }),
        response: {
          200: Type.Object(
            { configured: Type.Boolean({ description: 'false: WEBHOOK_URL or WEBHOOK_SECRET is not set, so nothing is delivered' }), deliveries: Type.Array(DeliverySchema) },
            { title: 'AdminWebhookDeliveriesResponse', description: 'Recent deliveries with their state and last attempt' },
          ),
          ...errors,
        },
      },
    },
    async (request) => admin.webhookDeliveries(request.query.state),
  );

  app.post(
    '/api/admin/webhooks/deliveries/:id/retry',
    {
      schema: {
        tags,
        security,
        summary: 'Make a failed or waiting delivery due now (audited)',
        params: UserId,
        response: { 200: Ok('AdminWebhookRetryResponse', 'The delivery is due again; a running worker sends it within a second'), ...errors },
      },
    },
    async (request) => {
      await admin.retryWebhookDelivery(op(request), request.params.id);
      return { ok: true as const };
    },
  );
};
