import axios from 'axios';
import type { MessageRow, Overview, UserDetail, WebhookDeliveryRow, WebhookDeliveryState } from '../../../src/domain/admin.js';
import type { FraudBlock, ScopeFigures } from '../../../src/domain/fraud-guard.js';
import type { ApiKey, VerifyService } from '../../../src/domain/verify-api.js';
import { ApiError, toFailure } from '../api.js';

export type { MessageRow, Overview, FraudBlock, ScopeFigures, VerifyService, WebhookDeliveryRow, WebhookDeliveryState };
/** An API key as the console lists it: never its secret. */
export type ApiKeyRow = Omit<ApiKey, 'secretHash'>;
/** A key just created: the only answer that carries its secret. */
export interface CreatedApiKey {
  readonly sid: string;
  readonly secret: string;
  readonly accountSid: string;
}
/** A user as /api/admin/users answers: the audit events without their ids. */
export type AdminUser = Omit<UserDetail, 'activity'> & { activity: Omit<UserDetail['activity'][number], 'id' | 'userId'>[] };

const http = axios.create({ baseURL: '/api/admin', timeout: 15_000 });

async function call<T>(request: Promise<{ data: T }>): Promise<T> {
  try {
    return (await request).data;
  } catch (err) {
    throw new ApiError(toFailure(err));
  }
}

/** The admin console's client of /api/admin (operators with 2FA on only). */
export const adminApi = {
  me: () => call(http.get<{ userId: string }>('/me')),
  overview: () => call(http.get<Overview>('/overview')),
  messages: (filter: { phone?: string; status?: string; provider?: string }) =>
    call(http.get<{ messages: MessageRow[] }>('/messages', { params: Object.fromEntries(Object.entries(filter).filter(([, v]) => v)) })),
  reveal: (id: string) => call(http.post<{ phone: string }>(`/messages/${encodeURIComponent(id)}/reveal`, {})),
  findUser: (phone: string) => call(http.get<AdminUser>('/users', { params: { phone } })),
  endSessions: (id: string) => call(http.post<{ ended: number }>(`/users/${encodeURIComponent(id)}/sessions/end`, {})),
  setDisabled: (id: string, disabled: boolean) => call(http.post<AdminUser>(`/users/${encodeURIComponent(id)}/${disabled ? 'disable' : 'enable'}`, {})),
  fraudGuard: () => call(http.get<{ mode: string; blocks: FraudBlock[]; countries: ScopeFigures[]; prefixes: ScopeFigures[] }>('/fraud-guard')),
  unblock: (scope: string) => call(http.post<{ ok: true }>('/fraud-guard/unblock', { scope })),
  verifyServices: () => call(http.get<{ services: VerifyService[] }>('/verify/services')),
  apiKeys: () => call(http.get<{ keys: ApiKeyRow[] }>('/api-keys')),
  createApiKey: (name: string) => call(http.post<CreatedApiKey>('/api-keys', { name })),
  revokeApiKey: (sid: string) => call(http.post<{ ok: true }>(`/api-keys/${encodeURIComponent(sid)}/revoke`, {})),
  webhookDeliveries: (state?: WebhookDeliveryState) =>
    call(http.get<{ configured: boolean; deliveries: WebhookDeliveryRow[] }>('/webhooks/deliveries', { params: state ? { state } : {} })),
  retryDelivery: (id: string) => call(http.post<{ ok: true }>(`/webhooks/deliveries/${encodeURIComponent(id)}/retry`, {})),
};

/** "prefix:+86 1391234" → "+86 1391234"; "country:CN" → "CN". */
export const targetOf = (scope: string) => scope.replace(/^(prefix|country):/, '');
export const percent = (n: number | null | undefined) => (n === null || n === undefined ? '–' : `${(n * 100).toFixed(1)}%`);
export const conversion = (c: { sent: number; verified: number }) => (c.sent === 0 ? null : c.verified / c.sent);
