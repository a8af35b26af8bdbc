import { Type, type Static } from 'typebox';
import { PURPOSES } from '../config.js';

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
  captchaId: Type.Optional(Type.String({ maxLength: 128 })),
  captchaAnswer: Type.Optional(Type.String({ maxLength: 32 })),
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

export const ResetPasswordBody = Type.Object({ phone: Phone, code: Code, newPassword: Password });
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
  captcha: Type.Union([Type.Literal('image'), Type.Literal('off')]),
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
