import axios, { type AxiosResponse } from 'axios';
import type { Static } from 'typebox';
import type { ErrorCode } from '../../src/errors.js';
import type {
  ActivityResponse,
  AuthResponse,
  CaptchaResponse,
  ErrorResponse,
  LoginResponse,
  MeResponse,
  PasswordLoginBody,
  PhoneChangeBody,
  PublicConfigResponse,
  RecoveryCodesBody,
  RecoveryCodesResponse,
  RegisterBody,
  ResetPasswordBody,
  ResetPasswordResponse,
  SendSmsBody,
  SendSmsResponse,
  SessionStateResponse,
  SessionsResponse,
  SignOutOthersResponse,
  SmsLoginBody,
  TwoFactorDisableBody,
  TwoFactorDisableResponse,
  TwoFactorEnableBody,
  TwoFactorSetupBody,
  TwoFactorEnableResponse,
  TwoFactorLoginBody,
  TwoFactorSetupResponse,
  TwoFactorStatusResponse,
} from '../../src/http/schemas.js';

export type { AuthResponse, CaptchaResponse, MeResponse, PublicConfigResponse, SendSmsResponse, User } from '../../src/http/schemas.js';
export type Purpose = SendSmsBody['purpose'];
/** A session, or with 2FA on the ticket for the second step (POST /api/login/2fa). */
export type LoginResult = Static<typeof LoginResponse>;
export type TwoFactorSetup = Static<typeof TwoFactorSetupResponse>;
export type TwoFactorStatus = Static<typeof TwoFactorStatusResponse>;
export type ActivityEvent = Static<typeof ActivityResponse>['events'][number];
export type SignedInSession = Static<typeof SessionsResponse>['sessions'][number];
export type Country = PublicConfigResponse['countries'][number];

/** The `error` object of an API error body, with its code narrowed to the server's catalogue. */
export type ApiErrorDetails = Omit<ErrorResponse['error'], 'code'> & { code: ErrorCode };

/**
 * Why a call failed, in the two kinds a page treats differently:
 * `api`, the server answered with one of its error codes (show it next to its field);
 * `unreachable`, no usable answer: offline, timed out, or a proxy's error page (offer a retry).
 */
export type ApiFailure =
  | { kind: 'api'; status: number; error: ApiErrorDetails }
  | { kind: 'unreachable'; status?: number };

/** Thrown by every function of this module; `failure` says what went wrong. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly failure: ApiFailure) {
    super(failure.kind === 'api' ? failure.error.code : 'unreachable');
  }
}

// Same origin as the pages, so the HttpOnly session cookie goes along without CORS.
const http = axios.create({ baseURL: '/api', timeout: 15_000 });

function isErrorBody(data: unknown): data is ErrorResponse {
  const error = (data as { error?: { code?: unknown } } | null)?.error;
  return typeof error?.code === 'string';
}

/** Turns whatever axios threw into an ApiFailure. Exported for the unit tests. */
export function toFailure(err: unknown): ApiFailure {
  if (axios.isAxiosError(err) && err.response) {
    const { status, data } = err.response as AxiosResponse<unknown>;
    // A body without our error shape came from something in between (a proxy's 502 page): treat as unreachable.
    if (isErrorBody(data)) return { kind: 'api', status, error: data.error as ApiErrorDetails };
    return { kind: 'unreachable', status };
  }
  return { kind: 'unreachable' };
}

async function call<T>(request: Promise<AxiosResponse<T>>): Promise<T> {
  try {
    return (await request).data;
  } catch (err) {
    throw new ApiError(toFailure(err));
  }
}

/** The typed client of the sms-verify API. Request and response types are the server's own schemas. */
export const api = {
  config: () => call(http.get<PublicConfigResponse>('/config')),
  captcha: () => call(http.get<CaptchaResponse>('/captcha')),
  sendCode: (body: SendSmsBody) => call(http.post<SendSmsResponse>('/sms/send', body)),
  register: (body: RegisterBody) => call(http.post<AuthResponse>('/register', body)),
  loginWithPassword: (body: PasswordLoginBody) => call(http.post<LoginResult>('/login/password', body)),
  loginWithCode: (body: SmsLoginBody) => call(http.post<LoginResult>('/login/sms', body)),
  loginSecondStep: (body: Static<typeof TwoFactorLoginBody>) => call(http.post<AuthResponse>('/login/2fa', body)),
  resetPassword: (body: ResetPasswordBody) => call(http.post<Static<typeof ResetPasswordResponse>>('/password/reset', body)),
  me: () => call(http.get<MeResponse>('/me')),
  /** Signed in or not, answered 200 either way: a signed-out visitor's page load logs no error. */
  session: () => call(http.get<Static<typeof SessionStateResponse>>('/session')),
  sessions: () => call(http.get<Static<typeof SessionsResponse>>('/account/sessions')),
  signOutOtherSessions: () => call(http.post<Static<typeof SignOutOthersResponse>>('/account/sessions/sign-out-others')),
  regenerateRecoveryCodes: (body: Static<typeof RecoveryCodesBody>) => call(http.post<Static<typeof RecoveryCodesResponse>>('/2fa/recovery-codes', body)),
  twoFactorStatus: () => call(http.get<TwoFactorStatus>('/2fa')),
  twoFactorSetup: (body: Static<typeof TwoFactorSetupBody>) => call(http.post<TwoFactorSetup>('/2fa/setup', body)),
  twoFactorEnable: (body: Static<typeof TwoFactorEnableBody>) => call(http.post<Static<typeof TwoFactorEnableResponse>>('/2fa/enable', body)),
  twoFactorDisable: (body: Static<typeof TwoFactorDisableBody>) => call(http.post<Static<typeof TwoFactorDisableResponse>>('/2fa/disable', body)),
  changePhone: (body: Static<typeof PhoneChangeBody>) => call(http.post<MeResponse>('/phone/change', body)),
  activity: () => call(http.get<Static<typeof ActivityResponse>>('/account/activity')),
  logout: () => call(http.post<void>('/logout')),
};
