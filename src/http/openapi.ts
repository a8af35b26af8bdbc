import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { ERRORS, type ErrorCode } from '../errors.js';
import { ErrorResponse } from './schemas.js';
import { SESSION_COOKIE } from './session-cookie.js';
import { pageHeaders } from './web-pages.js';

/**
 * The OpenAPI document (/openapi.json) and its viewer (/docs), and the helpers routes use to
 * describe themselves in it: `errorResponses` for the error codes a route can answer, and
 * `SESSION_REQUIRED` / `SESSION_OPTIONAL` for the routes that read the session.
 */

/** Any route can fail on our side. */
const ALWAYS: readonly ErrorCode[] = ['internal_error'];

/** What a route with a JSON body can answer before it runs: a body that fails the schema, or one too large. */
export const BODY_ERRORS = ['invalid_request', 'payload_too_large'] as const satisfies readonly ErrorCode[];

/** What a route that needs a session answers without one, and what any route answers when a store is down. */
export const SESSION_ERRORS = ['unauthorized', 'service_unavailable'] as const satisfies readonly ErrorCode[];

/**
 * The error responses of a route, one per HTTP status, from the catalogue (src/errors.ts): each
 * lists its codes as the enum of `error.code`, in its description, and as one example per code.
 * `internal_error` is added to every route.
 *
 * @example
 * app.post('/api/thing', { schema: { body: ThingBody, response: { 200: Thing, ...errorResponses([...BODY_ERRORS, 'rate_limited']) } } }, …)
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ALWAYS])) {
    const { status } = ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, errorResponse(list)]),
  );
}

function errorResponse(codes: readonly ErrorCode[]): TSchema {
  const { message, retryAfter, attemptsLeft, field, reason } = ErrorResponse.properties.error.properties;
  return Type.Object(
    { error: Type.Object({ code: Type.Enum(codes, { description: 'Switch on this; the message is for people' }), message, retryAfter, attemptsLeft, field, reason }) },
    {
      description: codes.map((code) => `\`${code}\`: ${ERRORS[code].message}`).join('\n\n'),
      'x-examples': Object.fromEntries(codes.map((code) => [code, { value: { error: { code, message: ERRORS[code].message } } }])),
    },
  );
}

/** The names of the security schemes below. */
const BEARER = 'sessionToken';
const COOKIE = 'sessionCookie';

/** A route that needs a session: the Bearer token, or the cookie the pages use. */
export const SESSION_REQUIRED: Record<string, string[]>[] = [{ [BEARER]: [] }, { [COOKIE]: [] }];
/** A route that reads a session when there is one (sending a change_phone code needs it; others do not). */
export const SESSION_OPTIONAL: Record<string, string[]>[] = [{}, ...SESSION_REQUIRED];

/**
 * Moves every schema that has a `title` into components.schemas under that name and refers to
 * it there, so the document names each request and response shape once. Two different shapes
 * with one title are a mistake in schemas.ts and stop the document from being built.
 */
export function hoistNamedSchemas<T extends { components?: { schemas?: Record<string, unknown> }; paths?: unknown }>(document: T): T {
  const named: Record<string, unknown> = {};
  const seen = new Map<string, string>();
  const isSchema = (node: Record<string, unknown>) => 'type' in node || 'enum' in node || 'anyOf' in node || 'oneOf' in node;
  const visitChildren = (node: object): Record<string, unknown> =>
    // Examples are values, not schemas: a "title" field in one is data.
    Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === 'example' || key === 'examples' ? value : visit(value)]));
  const name = (title: string, schema: Record<string, unknown>) => {
    const text = JSON.stringify(schema);
    const earlier = seen.get(title);
    if (earlier !== undefined && earlier !== text) throw new Error(`two different schemas are named ${title} in the OpenAPI document:\n${earlier}\n${text}`);
    seen.set(title, text);
    named[title] = schema;
  };
  function visit(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const copy = visitChildren(node);
    if (!isSchema(copy)) return copy;
    // TypeBox writes an enum without its type; viewers show `type: string` better.
    if (Array.isArray(copy.enum) && copy.type === undefined && copy.enum.every((v) => typeof v === 'string')) copy.type = 'string';
    // OpenAPI 3.0 schemas take one `example`; @fastify/swagger converts JSON Schema's `examples` but not inside anyOf.
    if (Array.isArray(copy.examples)) {
      copy.example ??= copy.examples[0];
      delete copy.examples;
    }
    if (typeof copy.title !== 'string') return copy;
    name(copy.title, copy);
    return { $ref: `#/components/schemas/${copy.title}` };
  }
  const paths = visit(document.paths);
  const { schemas = {}, ...otherComponents } = document.components ?? {};
  for (const [title, schema] of Object.entries(schemas)) name(title, visitChildren(schema as object));
  return { ...document, paths, components: { ...otherComponents, schemas: named } };
}

/**
 * The one inline <style> Swagger UI's bundle creates (a scratch document it parses descriptions
 * in); without it in the policy Chromium logs a violation on every load. A new Swagger UI may
 * change it: test/browser/api-docs.test.ts fails on any violation.
 */
const SWAGGER_UI_INLINE_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * Headers of the API viewer. It is served from the origin of the session cookie, so it gets the
 * pages' protections (no framing, no sniffing, no script or style from elsewhere). Swagger UI
 * loads its files from /docs/static, draws icons as data: URLs, and "Try it out" calls this
 * origin only.
 */
export function docsHeaders(): Record<string, string> {
  const headers = pageHeaders('off');
  const csp = headers['content-security-policy']!.replace("style-src 'self'", `style-src 'self' ${SWAGGER_UI_INLINE_STYLE}`);
  return { ...headers, 'content-security-policy': csp };
}

/**
 * Registers the OpenAPI document generator (before the routes, so it sees them all), the viewer
 * at /docs, and /openapi.json.
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sms-verify',
        version: '0.1.0',
        description: [
          'Phone sign-up with SMS verification codes: an image captcha, a code by SMS, then sign-up, sign-in or password reset.',
          'Every error is `{"error": {"code", "message"}}` (sometimes with `retryAfter`, `attemptsLeft`, `field`); each operation lists the codes it can answer.',
          `Routes marked with a lock take the session: the \`token\` from sign-up or sign-in as \`Authorization: Bearer …\` (use **Authorize**), or the \`${SESSION_COOKIE}\` cookie the pages use.`,
        ].join('\n\n'),
      },
      tags: [
        { name: 'verification', description: 'Captcha and SMS codes' },
        { name: 'accounts', description: 'Accounts and sessions' },
        { name: 'two-factor', description: 'TOTP second factor and recovery codes' },
        { name: 'delivery-reports', description: 'Delivery reports from the SMS providers (only with SMS_CALLBACK_TOKEN)' },
        { name: 'operations', description: 'Health checks for process managers and load balancers' },
        { name: 'admin', description: 'Admin console: operators with 2FA on only (npm run admin -- grant)' },
      ],
      components: {
        securitySchemes: {
          [BEARER]: { type: 'http', scheme: 'bearer', description: 'The `token` that sign-up and sign-in answer' },
          [COOKIE]: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session cookie the pages use (HttpOnly; the browser sends it)' },
        },
        schemas: { ErrorResponse },
      },
    },
    transformObject: (documents) => hoistNamedSchemas('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject),
  });
  await app.register(async (docs) => {
    const headers = docsHeaders();
    docs.addHook('onSend', async (_request, reply) => {
      void reply.headers(headers);
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', validatorUrl: false });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
