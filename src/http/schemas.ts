import { Type, type Static } from 'typebox';
import { CAPTCHA_KINDS, PURPOSES } from '../config.js';

/**
 * Request and response shapes of the public API. Fastify validates against them, @fastify/swagger
 * publishes them at /openapi.json, and the web client imports the same types.
 */

const Phone = Type.String({ minLength: 1, maxLength: 64, description: 'Mobile number, e.g. 13800138000 or +8613800138000' });
const Code = Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code from the SMS' });
// Length rules are the domain's (weak_password); the schema only insists on a string.
const Password = Type.String({ description: '8 to 128 characters' });

// An enum, not a Union of mapped Literals: over an array (not a tuple) the Union's static type is `never`.
export const Purpose = Type.Enum(PURPOSES, { description: 'What the code will be used for' });

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
});
export type SendSmsBody = Static<typeof SendSmsBody>;

export const SendSmsResponse = Type.Object({
  sent: Type.Literal(true),
  expiresIn: Type.Integer({ description: 'Seconds the code stays valid' }),
  resendAfter: Type.Integer({ description: 'Seconds until another code may be requested' }),
});
export type SendSmsResponse = Static<typeof SendSmsResponse>;

export const RegisterBody = Type.Object({ phone: Phone, code: Code, password: Password });
export type RegisterBody = Static<typeof RegisterBody>;

export const PasswordLoginBody = Type.Object({ phone: Phone, password: Password });
export type PasswordLoginBody = Static<typeof PasswordLoginBody>;

export const SmsLoginBody = Type.Object({ phone: Phone, code: Code });
export type SmsLoginBody = Static<typeof SmsLoginBody>;

export const ResetPasswordBody = Type.Object({
  phone: Phone,
  code: Code,
  newPassword: Password,
  totp: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'With 2FA on: an authenticator code or a recovery code' })),
});
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const ResetPasswordResponse = Type.Object({ ok: Type.Literal(true) });

export const User = Type.Object({
  id: Type.String(),
  phone: Type.String({ description: 'E.164' }),
  createdAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const AuthResponse = Type.Object({
  user: User,
  token: Type.String({ description: 'Session token; also set as an HttpOnly cookie' }),
});
export type AuthResponse = Static<typeof AuthResponse>;

export const MeResponse = Type.Object({ user: User });
export type MeResponse = Static<typeof MeResponse>;

export const CaptchaResponse = Type.Object({
  captchaId: Type.String(),
  image: Type.String({ description: 'data:image/svg+xml;base64,… URL' }),
  expiresIn: Type.Integer(),
});
export type CaptchaResponse = Static<typeof CaptchaResponse>;

export const PublicConfigResponse = Type.Object({
  captcha: Type.Union([Type.Literal('image'), Type.Literal('turnstile'), Type.Literal('hcaptcha'), Type.Literal('tencent'), Type.Literal('geetest'), Type.Literal('off')], {
    description: `One of ${CAPTCHA_KINDS.join(', ')}`,
  }),
  captchaSiteKey: Type.Optional(Type.String({ description: 'The widget key, for captcha turnstile, hcaptcha (site key), tencent (CaptchaAppId) or geetest (captcha_id)' })),
  codeLength: Type.Integer(),
  defaultRegion: Type.String(),
});
export type PublicConfigResponse = Static<typeof PublicConfigResponse>;

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    retryAfter: Type.Optional(Type.Integer()),
    attemptsLeft: Type.Optional(Type.Integer()),
    field: Type.Optional(Type.String()),
  }),
});
export type ErrorResponse = Static<typeof ErrorResponse>;

// --- issue 6: second factor, phone change, activity ---

/** An authenticator code (6 digits) or a recovery code (xxxxx-xxxxx); the domain tells them apart. */
const SecondFactorCode = Type.String({ minLength: 1, maxLength: 32, description: 'A 6-digit authenticator code or a recovery code' });

export const TwoFactorRequiredResponse = Type.Object({
  twoFactorRequired: Type.Literal(true),
  ticket: Type.String({ description: 'Single use, valid expiresIn seconds: send it to POST /api/login/2fa with a code' }),
  expiresIn: Type.Integer(),
});

/** Sign-in answers a session, or (with 2FA on) a ticket for the second step. */
export const LoginResponse = Type.Union([AuthResponse, TwoFactorRequiredResponse]);

export const TwoFactorLoginBody = Type.Object({
  ticket: Type.String({ minLength: 16, maxLength: 256 }),
  code: SecondFactorCode,
});

export const TwoFactorSetupResponse = Type.Object({
  otpauthUri: Type.String({ description: 'otpauth://totp/… for authenticator apps' }),
  qrSvg: Type.String({ description: 'The URI as a QR code, an SVG document' }),
  secret: Type.String({ description: 'Base32 secret, to type in by hand' }),
});

export const TwoFactorStatusResponse = Type.Object({
  enabled: Type.Boolean(),
  recoveryCodesLeft: Type.Integer({ description: 'Unused recovery codes; 0 while 2FA is off' }),
});

export const TwoFactorSetupBody = Type.Object({
  password: Type.String({ maxLength: 1024, description: 'The current password: a stolen session alone must not be able to turn 2FA on and lock the owner out' }),
});
export type TwoFactorSetupBody = Static<typeof TwoFactorSetupBody>;

export const TwoFactorEnableBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$', description: 'The current authenticator code' }) });
export const TwoFactorEnableResponse = Type.Object({
  enabled: Type.Literal(true),
  recoveryCodes: Type.Array(Type.String(), { description: 'Ten single-use codes, shown only now' }),
});

export const TwoFactorDisableBody = Type.Object({ password: Password, code: SecondFactorCode });
export const TwoFactorDisableResponse = Type.Object({ enabled: Type.Literal(false) });

export const PhoneChangeBody = Type.Object({
  newPhone: Phone,
  code: Code,
  password: Type.Optional(Password),
  totp: Type.Optional(SecondFactorCode),
});

export const ActivityResponse = Type.Object({
  events: Type.Array(
    Type.Object({
      type: Type.String(),
      at: Type.String({ format: 'date-time' }),
      phone: Type.Union([Type.String({ description: 'Masked' }), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
      userAgent: Type.Union([Type.String(), Type.Null()]),
      detail: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});
