import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ApiKeys, SendAttempt, VerifyApi, VerifyService, VerifyVerification } from '../../domain/verify-api.js';
import { clientOf } from '../client-context.js';
import { AUTHENTICATION_FAILED, installTwilioErrorHandling, invalidParameter, NOT_FOUND, TwilioApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key that authenticated this Verify API request (set by the authentication hook). */
    apiKeySid: string | null;
  }
}

export interface VerifyApiPluginOptions {
  readonly verifyApi: VerifyApi;
  readonly apiKeys: ApiKeys;
  readonly accountSid: string;
  readonly now: () => number;
}

/** Every parameter is a string in a form body; JSON may also send numbers and booleans. */
const scalar = (maxLength = 256) => ({ anyOf: [{ type: 'string', maxLength }, { type: 'number' }, { type: 'boolean' }] });
const body = (properties: Record<string, object>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  // Twilio's SDKs may send parameters this API does not use; they are ignored, as Twilio ignores unknown ones.
  additionalProperties: true,
});
const params = (names: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', maxLength: 64 }])),
  required: names,
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const str = (value: unknown) => (value === undefined ? undefined : String(value));

function int(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^-?[0-9]{1,3}$/.test(String(value)) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n)) throw new TwilioApiError(invalidParameter(name));
  return n;
}

function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw new TwilioApiError(invalidParameter(name));
}

/** `Basic base64(sid:secret)`, or undefined for anything else. */
function basicCredentials(header: string | undefined): { sid: string; secret: string } | undefined {
  if (!header || header.length > 512) return undefined;
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { sid: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * The Twilio-Verify-compatible API under /v2, an encapsulated plugin: its own body parsing (form
 * bodies, as Twilio's SDKs send, and JSON), its own errors in Twilio's shape, and API-key
 * authentication by one hook, so the end-user API's behaviour is untouched.
 */
export const verifyApiPlugin: FastifyPluginAsync<VerifyApiPluginOptions> = async (app, { verifyApi, apiKeys, accountSid, now }) => {
  installTwilioErrorHandling(app);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, raw, done) => {
    const parsed: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(raw as string)) {
      const previous = parsed[key];
      // A repeated scalar parameter becomes an array, which the schema refuses as 60200 naming it.
      parsed[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    done(null, parsed);
  });

  app.decorateRequest('apiKeySid', null);
  // Before the body is read: a request without a live key costs a header parse and at most one key lookup.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const credentials = basicCredentials(request.headers.authorization);
    const sid = credentials && (await apiKeys.authenticate(credentials.sid, credentials.secret));
    if (!sid) throw new TwilioApiError(AUTHENTICATION_FAILED);
    request.apiKeySid = sid;
  });

  const base = (request: FastifyRequest) => `${request.protocol}://${request.host}/v2`;

  const serviceJson = (request: FastifyRequest, s: VerifyService) => ({
    sid: s.sid,
    account_sid: accountSid,
    friendly_name: s.friendlyName,
    code_length: s.codeLength,
    lookup_enabled: false,
    psd2_enabled: s.psd2Enabled,
    skip_sms_to_landlines: false,
    dtmf_input_required: false,
    tts_name: null,
    do_not_share_warning_enabled: s.doNotShareWarningEnabled,
    custom_code_enabled: false,
    date_created: iso(s.createdAt),
    date_updated: iso(s.updatedAt),
    url: `${base(request)}/Services/${s.sid}`,
    links: {
      verifications: `${base(request)}/Services/${s.sid}/Verifications`,
      verification_checks: `${base(request)}/Services/${s.sid}/VerificationCheck`,
    },
  });

  const status = (v: VerifyVerification) => (v.status === 'pending' && v.expiresAt <= now() ? 'expired' : v.status);
  const attemptJson = (a: SendAttempt) => ({ time: iso(a.time), channel: a.channel, attempt_sid: a.attemptSid });
  const verificationJson = (request: FastifyRequest, v: VerifyVerification) => ({
    sid: v.sid,
    service_sid: v.serviceSid,
    account_sid: accountSid,
    to: v.to,
    channel: v.channel,
    status: status(v),
    valid: v.status === 'approved',
    lookup: {},
    amount: v.amount,
    payee: v.payee,
    send_code_attempts: v.sendAttempts.map(attemptJson),
    date_created: iso(v.createdAt),
    date_updated: iso(v.updatedAt),
    sna: null,
    url: `${base(request)}/Services/${v.serviceSid}/Verifications/${v.sid}`,
  });

  const serviceBody = body({
    FriendlyName: scalar(64),
    CodeLength: scalar(8),
    Psd2Enabled: scalar(8),
    DoNotShareWarningEnabled: scalar(8),
  });
  const serviceInput = (b: Record<string, unknown>) => ({
    friendlyName: str(b.FriendlyName),
    codeLength: int(b.CodeLength, 'CodeLength'),
    psd2Enabled: bool(b.Psd2Enabled, 'Psd2Enabled'),
    doNotShareWarningEnabled: bool(b.DoNotShareWarningEnabled, 'DoNotShareWarningEnabled'),
  });
  type Body = { Body: Record<string, unknown> };
  type Sid = { Params: { ServiceSid: string } };
  type Sids = { Params: { ServiceSid: string; Sid: string } };

  app.post<Body>('/Services', { schema: { hide: true, body: serviceBody } }, async (request, reply) => {
    const created = await verifyApi.createService(serviceInput(request.body ?? {}));
    return reply.code(201).send(serviceJson(request, created));
  });

  app.get('/Services', { schema: { hide: true } }, async (request) => {
    const services = (await verifyApi.listServices()).map((s) => serviceJson(request, s));
    const url = `${base(request)}/Services?PageSize=${services.length || 50}&Page=0`;
    return {
      services,
      meta: { page: 0, page_size: services.length || 50, first_page_url: url, previous_page_url: null, url, next_page_url: null, key: 'services' },
    };
  });

  app.get<Sid>('/Services/:ServiceSid', { schema: { hide: true, params: params(['ServiceSid']) } }, async (request) =>
    serviceJson(request, await verifyApi.fetchService(request.params.ServiceSid)),
  );

  app.post<Sid & Body>('/Services/:ServiceSid', { schema: { hide: true, params: params(['ServiceSid']), body: serviceBody } }, async (request) =>
    serviceJson(request, await verifyApi.updateService(request.params.ServiceSid, serviceInput(request.body ?? {}))),
  );

  app.delete<Sid>('/Services/:ServiceSid', { schema: { hide: true, params: params(['ServiceSid']) } }, async (request, reply) => {
    await verifyApi.deleteService(request.params.ServiceSid);
    return reply.code(204).send();
  });

  app.post<Sid & Body>(
    '/Services/:ServiceSid/Verifications',
    {
      schema: {
        hide: true,
        params: params(['ServiceSid']),
        body: body(
          { To: scalar(32), Channel: scalar(16), Locale: scalar(16), CustomFriendlyName: scalar(64), Amount: scalar(128), Payee: scalar(128), DeviceIp: scalar(64) },
          ['To', 'Channel'],
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const verification = await verifyApi.startVerification(
        request.params.ServiceSid,
        {
          to: String(b.To),
          channel: String(b.Channel),
          locale: str(b.Locale),
          customFriendlyName: str(b.CustomFriendlyName),
          amount: str(b.Amount),
          payee: str(b.Payee),
          deviceIp: str(b.DeviceIp),
        },
        clientOf(request),
      );
      return reply.code(201).send(verificationJson(request, verification));
    },
  );

  app.post<Sid & Body>(
    '/Services/:ServiceSid/VerificationCheck',
    {
      schema: {
        hide: true,
        params: params(['ServiceSid']),
        body: body({ Code: scalar(16), To: scalar(32), VerificationSid: scalar(64), Amount: scalar(128), Payee: scalar(128) }, ['Code']),
      },
    },
    async (request) => {
      const b = request.body;
      const { verification, approved } = await verifyApi.checkVerification(
        request.params.ServiceSid,
        { code: String(b.Code), to: str(b.To), verificationSid: str(b.VerificationSid), amount: str(b.Amount), payee: str(b.Payee) },
        clientOf(request),
      );
      const { send_code_attempts: _attempts, lookup: _lookup, url: _url, sna: _sna, ...fields } = verificationJson(request, verification);
      return { ...fields, status: approved ? 'approved' : 'pending', valid: approved, sna_attempts_error_codes: [] };
    },
  );

  app.get<Sids>('/Services/:ServiceSid/Verifications/:Sid', { schema: { hide: true, params: params(['ServiceSid', 'Sid']) } }, async (request) =>
    verificationJson(request, await verifyApi.fetchVerification(request.params.ServiceSid, request.params.Sid)),
  );

  app.post<Sids & Body>(
    '/Services/:ServiceSid/Verifications/:Sid',
    { schema: { hide: true, params: params(['ServiceSid', 'Sid']), body: body({ Status: scalar(16) }, ['Status']) } },
    async (request) =>
      verificationJson(request, await verifyApi.updateVerification(request.params.ServiceSid, request.params.Sid, String(request.body.Status))),
  );

  // Unknown paths under /v2 answer in Twilio's shape, also where the web pages' catch-all would claim a GET.
  app.all('/*', { schema: { hide: true } }, async () => {
    throw new TwilioApiError(NOT_FOUND);
  });
};

/** Registers the Verify API under /v2. */
export async function registerVerifyApi(app: FastifyInstance, options: VerifyApiPluginOptions): Promise<void> {
  await app.register(verifyApiPlugin, { ...options, prefix: '/v2' });
}
