import { Type, type Static } from 'typebox';
import { CAPTCHA_KINDS, PURPOSES } from '../config.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { SMS_LOCALES } from '../sms/templates.js';

/**
 * Request and response shapes of the public API. Fastify validates against them, @fastify/swagger
 * publishes them at /openapi.json, and the web client imports the same types. A `title` names a
 * shape in the document (src/http/openapi.ts); its `description` describes the response that
 * carries it; `examples` are what "Try it out" fills in.
 */

const Phone = Type.String({ minLength: 1, maxLength: 64, description: 'Mobile number, e.g. 13800138000 or +8613800138000', examples: ['13800138000'] });
const Code = Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code from the SMS', examples: ['123456'] });
// Length rules are the domain's (weak_password); the schema only insists on a string.
const Password = Type.String({ description: '8 to 128 characters', examples: ['correct horse battery'] });

// An enum, not a Union of mapped Literals: over an array (not a tuple) the Union's static type is `never`.
export const Purpose = Type.Enum(PURPOSES, { description: 'What the code will be used for', examples: ['register'] });

export const SendSmsBody = Type.Object({
  phone: Phone,
  purpose: Purpose,
  // Ids are UUIDs; the pattern also keeps bytes PostgreSQL refuses (NUL) away from the stores.
  captchaId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,128}$' })),
  captchaAnswer: Type.Optional(Type.String({ maxLength: 32 })),
  captchaToken: Type.Optional(
    Type.String({ maxLength: 4096, description: 'The Turnstile / hCaptcha widget token (CAPTCHA=turnstile|hcaptcha), or the Tencent Captcha ticket (CAPTCHA=tencent)' }),
  ),
  captchaRandstr: Type.Optional(Type.String({ maxLength: 128, description: "The Tencent Captcha widget's randstr, with its ticket (CAPTCHA=tencent)" })),
  geetest: Type.Optional(
    Type.Object(
      {
        lot_number: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
        captcha_output: Type.String({ minLength: 1, maxLength: 4096 }),
        pass_token: Type.String({ minLength: 1, maxLength: 1024 }),
        gen_time: Type.String({ pattern: '^[0-9]{1,13}$' }),
      },
      { additionalProperties: false, description: 'The four values the GeeTest v4 widget returns (CAPTCHA=geetest)' },
    ),
  ),
  locale: Type.Optional(
    Type.Enum(SMS_LOCALES, { description: 'Language of the SMS text (console and free-text providers; template providers keep their template). Default zh-CN' }),
  ),
}, { title: 'SendSmsBody', examples: [{ phone: '13800138000', purpose: 'register', captchaId: '0b7f5c2e-1d3a-4f6b-9c8e-2a4d6f8b0c1e', captchaAnswer: 'k7Hm' }] });
export type SendSmsBody = Static<typeof SendSmsBody>;

export const SendSmsResponse = Type.Object({
  sent: Type.Literal(true),
  expiresIn: Type.Integer({ description: 'Seconds the code stays valid' }),
  resendAfter: Type.Integer({ description: 'Seconds until another code may be requested' }),
}, { title: 'SendSmsResponse', description: 'The code was sent' });
export type SendSmsResponse = Static<typeof SendSmsResponse>;

export const RegisterBody = Type.Object({ phone: Phone, code: Code, password: Password }, { title: 'RegisterBody' });
export type RegisterBody = Static<typeof RegisterBody>;

export const PasswordLoginBody = Type.Object({ phone: Phone, password: Password }, { title: 'PasswordLoginBody' });
export type PasswordLoginBody = Static<typeof PasswordLoginBody>;

export const SmsLoginBody = Type.Object({ phone: Phone, code: Code }, { title: 'SmsLoginBody' });
export type SmsLoginBody = Static<typeof SmsLoginBody>;

export const ResetPasswordBody = Type.Object({
  phone: Phone,
  code: Code,
  newPassword: Password,
  totp: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'With 2FA on: an authenticator code or a recovery code', examples: ['492039'] })),
}, { title: 'ResetPasswordBody' });
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const ResetPasswordResponse = Type.Object({ ok: Type.Literal(true) }, { title: 'ResetPasswordResponse', description: 'The password is changed and every session of the account has ended' });

export const User = Type.Object({
  id: Type.String({ examples: ['6f1c2b9e-3a47-4d2e-9b1a-5c8d7e6f4a30'] }),
  phone: Type.String({ description: 'E.164', examples: ['+8613800138000'] }),
  createdAt: Type.String({ format: 'date-time' }),
}, { title: 'User' });
export type User = Static<typeof User>;

/** What a backend-style client keeps: a short-lived JWT and the opaque token that renews it. */
const TokenFields = {
  accessToken: Type.String({ description: 'JWT (ES256 or EdDSA) to send as Authorization: Bearer; verify it against /.well-known/jwks.json' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds the access token is valid' }),
  refreshToken: Type.String({ description: 'Opaque, single use: POST /api/token/refresh for a new pair' }),
};

export const AuthResponse = Type.Object({
  user: User,
  token: Type.String({ description: 'Session token; also set as an HttpOnly cookie' }),
  ...TokenFields,
}, { title: 'AuthResponse', description: 'Signed in: the user, a session token (also set as the session cookie), and an access and a refresh token' });

export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 256 }) }, { title: 'RefreshBody', examples: [{ refreshToken: 'rt_…' }] });
export const RefreshResponse = Type.Object(TokenFields, { title: 'RefreshResponse', description: 'A new access token and a new refresh token; the old refresh token is spent' });
export type AuthResponse = Static<typeof AuthResponse>;

export const MeResponse = Type.Object({ user: User }, { title: 'MeResponse', description: 'The signed-in user' });
export type MeResponse = Static<typeof MeResponse>;

export const CaptchaResponse = Type.Object({
  captchaId: Type.String(),
  image: Type.String({ description: 'A 200×64 PNG as a data:image/png;base64,… URL, for an <img>' }),
  expiresIn: Type.Integer({ description: 'Seconds the captcha stays valid' }),
}, { title: 'CaptchaResponse', description: 'A new captcha: show the picture, send its id and the answer with the SMS request' });
export type CaptchaResponse = Static<typeof CaptchaResponse>;

export const PublicConfigResponse = Type.Object({
  captcha: Type.Union([Type.Literal('image'), Type.Literal('turnstile'), Type.Literal('hcaptcha'), Type.Literal('tencent'), Type.Literal('geetest'), Type.Literal('off')], {
    description: `One of ${CAPTCHA_KINDS.join(', ')}`,
  }),
  captchaSiteKey: Type.Optional(Type.String({ description: 'The widget key, for captcha turnstile, hcaptcha (site key), tencent (CaptchaAppId) or geetest (captcha_id)' })),
  codeLength: Type.Integer(),
  defaultRegion: Type.String(),
  countries: Type.Array(
    Type.Object({
      region: Type.String({ description: 'ISO 3166-1 alpha-2, e.g. CN' }),
      callingCode: Type.String({ description: 'Without the +, e.g. 86' }),
    }),
    { description: 'The regions SMS may go to (SMS_ALLOWED_COUNTRIES), for the country picker beside the phone input' },
  ),
}, { title: 'PublicConfigResponse', description: 'The settings the pages need' });
export type PublicConfigResponse = Static<typeof PublicConfigResponse>;

const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The one error shape of the API. Each route's own error responses narrow `code` to what it can answer (errorResponses). */
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.Enum(ERROR_CODES, { description: 'A code from the catalogue; clients switch on it' }),
    message: Type.String({ description: 'For people; may change' }),
    retryAfter: Type.Optional(Type.Integer({ description: 'Seconds to wait before retrying (rate_limited); also the Retry-After header' })),
    attemptsLeft: Type.Optional(Type.Integer({ description: 'Wrong tries left on the pending code (code_invalid)' })),
    field: Type.Optional(Type.String({ description: 'The input the error concerns' })),
    reason: Type.Optional(
      Type.String({ description: 'resend_cooldown: a code was sent to this number within the cooldown and is still valid; retryAfter says when another may be asked for' }),
    ),
  }),
}, { title: 'ErrorResponse', description: 'An error' });
export type ErrorResponse = Static<typeof ErrorResponse>;

// --- issue 6: second factor, phone change, activity ---

/** An authenticator code (6 digits) or a recovery code (xxxxx-xxxxx); the domain tells them apart. */
const SecondFactorCode = Type.String({ minLength: 1, maxLength: 32, description: 'A 6-digit authenticator code or a recovery code', examples: ['492039'] });

export const TwoFactorRequiredResponse = Type.Object({
  twoFactorRequired: Type.Literal(true),
  ticket: Type.String({ description: 'Single use, valid expiresIn seconds: send it to POST /api/login/2fa with a code' }),
  expiresIn: Type.Integer(),
}, { title: 'TwoFactorRequiredResponse' });

/** Sign-in answers a session, or (with 2FA on) a ticket for the second step. */
export const LoginResponse = Type.Union([AuthResponse, TwoFactorRequiredResponse], {
  title: 'LoginResponse',
  description: 'Signed in (user and token), or with 2FA on a ticket for POST /api/login/2fa',
});

export const TwoFactorLoginBody = Type.Object({
  ticket: Type.String({ minLength: 16, maxLength: 256, examples: ['q3V9x2LrT8mN1bK5cW7yZ0aD4fH6jP2s'] }),
  code: SecondFactorCode,
}, { title: 'TwoFactorLoginBody' });

export const TwoFactorSetupResponse = Type.Object({
  otpauthUri: Type.String({ description: 'otpauth://totp/… for authenticator apps' }),
  qrSvg: Type.String({ description: 'The URI as a QR code, an SVG document' }),
  secret: Type.String({ description: 'Base32 secret, to type in by hand' }),
}, { title: 'TwoFactorSetupResponse', description: 'A new secret to add to the authenticator app; not on until enabled' });

export const TwoFactorStatusResponse = Type.Object({
  enabled: Type.Boolean(),
  recoveryCodesLeft: Type.Integer({ description: 'Unused recovery codes; 0 while 2FA is off' }),
}, { title: 'TwoFactorStatusResponse', description: 'Whether two-step verification is on' });

export const TwoFactorSetupBody = Type.Object({
  password: Type.String({
    maxLength: 1024,
    description: 'The current password: a stolen session alone must not be able to turn 2FA on and lock the owner out',
    examples: ['correct horse battery'],
  }),
}, { title: 'TwoFactorSetupBody' });
export type TwoFactorSetupBody = Static<typeof TwoFactorSetupBody>;

export const TwoFactorEnableBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$', description: 'The current authenticator code', examples: ['492039'] }) },
  { title: 'TwoFactorEnableBody' },
);
export const TwoFactorEnableResponse = Type.Object({
  enabled: Type.Literal(true),
  recoveryCodes: Type.Array(Type.String(), { description: 'Ten single-use codes, shown only now' }),
}, { title: 'TwoFactorEnableResponse', description: 'Two-step verification is on; keep the recovery codes' });

export const TwoFactorDisableBody = Type.Object({ password: Password, code: SecondFactorCode }, { title: 'TwoFactorDisableBody' });
export const TwoFactorDisableResponse = Type.Object({ enabled: Type.Literal(false) }, { title: 'TwoFactorDisableResponse', description: 'Two-step verification is off' });

export const PhoneChangeBody = Type.Object({
  newPhone: Phone,
  code: Code,
  password: Type.Optional(Password),
  totp: Type.Optional(SecondFactorCode),
}, { title: 'PhoneChangeBody', examples: [{ newPhone: '13900139000', code: '123456', password: 'correct horse battery' }] });

export const ActivityResponse = Type.Object({
  events: Type.Array(
    Type.Object({
      type: Type.String(),
      at: Type.String({ format: 'date-time' }),
      phone: Type.Union([Type.String({ description: 'Masked' }), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
      userAgent: Type.Union([Type.String(), Type.Null()]),
      detail: Type.Union([Type.String(), Type.Null()]),
    }, { title: 'SecurityEvent' }),
  ),
}, { title: 'ActivityResponse', description: 'Your own security events, newest first' });

// --- issue 9: the signed-in state, sessions, recovery codes ---

/** Signed in or not, without a 401: a signed-out visitor's page load should not log an error. */
export const SessionStateResponse = Type.Object(
  // The same fields as User under another name: a nullable copy titled User would clash with it in the document.
  { user: Type.Union([Type.Object(User.properties, { title: 'SessionUser' }), Type.Null()], { description: 'null when signed out' }) },
  { title: 'SessionStateResponse', description: 'The signed-in user, or null' },
);

export const SessionsResponse = Type.Object({
  sessions: Type.Array(
    Type.Object({
      current: Type.Boolean({ description: 'The session that made this request' }),
      createdAt: Type.String({ format: 'date-time', description: 'When it signed in' }),
      lastSeenAt: Type.String({ format: 'date-time', description: 'Its last request, at most a minute stale' }),
      ip: Type.Union([Type.String(), Type.Null()], { description: 'The address it signed in from' }),
      userAgent: Type.Union([Type.String(), Type.Null()], { description: 'The User-Agent it signed in with' }),
    }),
    { description: 'Live sessions, most recently used first' },
  ),
}, { title: 'SessionsResponse', description: 'Your signed-in sessions (devices)' });

export const SignOutOthersResponse = Type.Object({ ended: Type.Integer({ description: 'How many other sessions ended' }) }, { title: 'SignOutOthersResponse', description: 'The other sessions are signed out' });

export const RecoveryCodesBody = Type.Object({ password: Password, code: SecondFactorCode }, { title: 'RecoveryCodesBody' });
export const RecoveryCodesResponse = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Ten new single-use codes, shown only now; every earlier code stopped working' }),
}, { title: 'RecoveryCodesResponse', description: 'New recovery codes' });
