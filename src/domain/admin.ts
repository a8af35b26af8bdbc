import { AppError } from './errors.js';
import type { AccountRepository } from './account-repository.js';
import type { AuditEvent, AuditLog } from './audit.js';
import type { ClientContext } from './client.js';
import type { FraudBlock, FraudGuard, ScopeFigures } from './fraud-guard.js';
import type { Logger } from './logger.js';
import { maskPhone, normalizePhone } from './phone.js';
import type { ApiKey, ApiKeys, VerifyService } from './verify-api.js';

/** Who may open the admin console (`npm run admin -- grant +86…`). */
export interface OperatorRepository {
  isOperator(userId: string): Promise<boolean>;
  /** false when the user already was one. */
  grant(userId: string, now: number): Promise<boolean>;
  /** false when the user was not one. */
  revoke(userId: string): Promise<boolean>;
}

/** One provider attempt as the console lists it; the number is masked unless revealed. */
export interface MessageRow {
  readonly id: string;
  readonly provider: string;
  readonly phoneMasked: string;
  readonly purpose: string;
  readonly status: string;
  readonly errorCode: string | null;
  readonly fee: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface MessageFilter {
  /** As typed; normalized, then matched exactly. */
  readonly phone?: string | undefined;
  readonly status?: string | undefined;
  readonly provider?: string | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** Rows created before this (the previous page's last createdAt), newest first. */
  readonly before?: number | undefined;
  readonly limit: number;
}

/** SMS attempts per hour, by provider and status, for the overview chart. */
export interface HourlyCount {
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  readonly provider: string;
  readonly status: string;
  readonly count: number;
  readonly fee: number;
}

/** The queries the console reads the database with (src/db/admin-repository.ts). */
export interface AdminReadModel {
  smsPerHour(since: number): Promise<HourlyCount[]>;
  searchMessages(filter: MessageFilter): Promise<(MessageRow & { phone: string })[]>;
  messagePhone(id: string): Promise<string | undefined>;
  sessionsOf(userId: string, now: number): Promise<{ createdAt: number; expiresAt: number }[]>;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/** A webhook delivery as the console lists it. */
export interface WebhookDeliveryRow {
  readonly id: string;
  readonly eventId: string;
  readonly type: string;
  readonly url: string;
  readonly state: WebhookDeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly deliveredAt: number | null;
}

/** The webhook outbox as the console reads and re-queues it (src/webhooks/deliveries.ts). */
export interface WebhookDeliveryLog {
  /** Newest first. */
  list(limit: number, state?: WebhookDeliveryState): Promise<WebhookDeliveryRow[]>;
  /** Makes a failed (or pending) row due now; false if there is no such row or it was delivered. */
  retry(id: string, now: number): Promise<boolean>;
}

export interface AdminDeps {
  readonly operators: OperatorRepository;
  readonly accounts: AccountRepository;
  readonly readModel: AdminReadModel;
  readonly twoFactorEnabled: (userId: string) => Promise<boolean>;
  readonly fraudGuard: FraudGuard;
  readonly audit: AuditLog;
  /** Refusals by limit since this instance started, and the daily budget's use. */
  readonly refusals: () => Promise<{ limit: string; count: number }[]>;
  readonly dailyBudget: () => Promise<{ used: number; budget: number } | undefined>;
  readonly defaultRegion: string;
  /** The Verify API's services and keys. */
  readonly verifyServices: () => Promise<VerifyService[]>;
  readonly apiKeys: ApiKeys;
  readonly webhookDeliveries: WebhookDeliveryLog;
  /** Whether WEBHOOK_URL and WEBHOOK_SECRET are set, so a worker delivers the rows. */
  readonly webhooksConfigured: boolean;
  readonly now: () => number;
  readonly log: Logger;
}

/** An operator's request: who, and from where (for the audit rows). */
export interface OperatorContext {
  readonly userId: string;
  readonly client?: ClientContext | undefined;
}

export interface UserDetail {
  readonly id: string;
  readonly phone: string;
  readonly createdAt: number;
  readonly disabledAt: number | null;
  readonly twoFactorEnabled: boolean;
  readonly operator: boolean;
  readonly sessions: { createdAt: number; expiresAt: number }[];
  readonly activity: AuditEvent[];
}

export interface Overview {
  readonly since: number;
  readonly smsPerHour: HourlyCount[];
  readonly delivery: { readonly delivered: number; readonly undelivered: number; readonly rate: number | null };
  readonly fees: { provider: string; fee: number }[];
  readonly countries: ScopeFigures[];
  readonly worstPrefixes: ScopeFigures[];
  readonly refusals: { limit: string; count: number }[];
  readonly dailyBudget: { readonly used: number; readonly budget: number } | null;
}

export interface AdminService {
  /** Throws operator_required, or operator_two_factor_required when the operator's 2FA is off. */
  requireOperator(userId: string): Promise<void>;
  overview(): Promise<Overview>;
  messages(filter: MessageFilter): Promise<MessageRow[]>;
  /** The full number of one message; audited. */
  revealPhone(op: OperatorContext, messageId: string): Promise<string>;
  findUser(op: OperatorContext, rawPhone: string): Promise<UserDetail>;
  endSessions(op: OperatorContext, userId: string): Promise<number>;
  setDisabled(op: OperatorContext, userId: string, disabled: boolean): Promise<UserDetail>;
  fraudGuard(): Promise<{ mode: string; blocks: FraudBlock[]; countries: ScopeFigures[]; prefixes: ScopeFigures[] }>;
  unblock(op: OperatorContext, scope: string): Promise<void>;
  verifyServices(): Promise<VerifyService[]>;
  apiKeys(): Promise<Omit<ApiKey, 'secretHash'>[]>;
  /** The secret is in this answer only; audited. */
  createApiKey(op: OperatorContext, name: string): Promise<{ sid: string; secret: string; accountSid: string }>;
  /** Throws not_found when there is no live key with that sid; audited. */
  revokeApiKey(op: OperatorContext, sid: string): Promise<void>;
  webhookDeliveries(state?: WebhookDeliveryState): Promise<{ configured: boolean; deliveries: WebhookDeliveryRow[] }>;
  /** Throws not_found when there is no such delivery or it was delivered; audited. */
  retryWebhookDelivery(op: OperatorContext, id: string): Promise<void>;
}

/**
 * A receiver URL without its query, fragment and credentials: an operator often puts the
 * receiver's token there, and the console should not show it to everyone who can open it.
 */
export function receiverUrlForDisplay(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search || url.username || url.password ? '…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

const HOUR_MS = 3_600_000;
const conversionOf = (f: ScopeFigures) => (f.windows.day.sent === 0 ? 1 : f.windows.day.verified / f.windows.day.sent);

/** The admin console's domain: what an operator may see and do, each action audited. */
export function createAdminService(deps: AdminDeps): AdminService {
  const { accounts, audit, log } = deps;

  async function detail(userId: string): Promise<UserDetail> {
    const user = await accounts.findUserById(userId);
    if (!user) throw new AppError('not_found', {}, { message: 'No such user.' });
    const [twoFactorEnabled, operator, sessions, activity] = await Promise.all([
      deps.twoFactorEnabled(userId),
      deps.operators.isOperator(userId),
      deps.readModel.sessionsOf(userId, deps.now()),
      audit.listForUser(userId, 20),
    ]);
    return {
      id: user.id,
      phone: user.phone,
      createdAt: user.createdAt,
      disabledAt: user.disabledAt ?? null,
      twoFactorEnabled,
      operator,
      sessions,
      activity,
    };
  }

  return {
    async requireOperator(userId) {
      if (!(await deps.operators.isOperator(userId))) throw new AppError('operator_required');
      if (!(await deps.twoFactorEnabled(userId))) throw new AppError('operator_two_factor_required');
    },

    async overview() {
      const now = deps.now();
      const since = Math.floor(now / HOUR_MS) * HOUR_MS - 47 * HOUR_MS;
      const [smsPerHour, countries, prefixes, refusals, budget] = await Promise.all([
        deps.readModel.smsPerHour(since),
        deps.fraudGuard.figures('country', 20),
        deps.fraudGuard.figures('prefix', 200),
        deps.refusals(),
        deps.dailyBudget(),
      ]);
      const sum = (status: string) => smsPerHour.filter((h) => h.status === status).reduce((n, h) => n + h.count, 0);
      const delivered = sum('delivered');
      const undelivered = sum('undelivered');
      const fees = new Map<string, number>();
      for (const h of smsPerHour) fees.set(h.provider, (fees.get(h.provider) ?? 0) + h.fee);
      return {
        since,
        smsPerHour,
        delivery: { delivered, undelivered, rate: delivered + undelivered === 0 ? null : delivered / (delivered + undelivered) },
        fees: [...fees].map(([provider, fee]) => ({ provider, fee })),
        countries,
        // The prefixes with enough traffic to judge, lowest conversion first.
        worstPrefixes: prefixes
          .filter((p) => p.windows.day.sent >= 3)
          .sort((a, b) => conversionOf(a) - conversionOf(b) || b.windows.day.sent - a.windows.day.sent)
          .slice(0, 10),
        refusals,
        dailyBudget: budget ?? null,
      };
    },

    async messages(filter) {
      const phone = filter.phone === undefined ? undefined : normalizePhone(filter.phone, deps.defaultRegion);
      const rows = await deps.readModel.searchMessages({ ...filter, phone });
      return rows.map(({ phone, ...row }) => ({ ...row, phoneMasked: maskPhone(phone) }));
    },

    async revealPhone(op, messageId) {
      const phone = await deps.readModel.messagePhone(messageId);
      if (!phone) throw new AppError('not_found', {}, { message: 'No such message.' });
      await audit.record({ type: 'admin_phone_revealed', userId: op.userId, client: op.client, detail: `message ${messageId}` });
      return phone;
    },

    async findUser(op, rawPhone) {
      const phone = normalizePhone(rawPhone, deps.defaultRegion);
      const user = await accounts.findUserByPhone(phone);
      if (!user) throw new AppError('phone_not_registered', { field: 'phone' });
      await audit.record({ type: 'admin_user_viewed', userId: op.userId, client: op.client, detail: `user ${user.id}` });
      return detail(user.id);
    },

    async endSessions(op, userId) {
      await detail(userId);
      const ended = await accounts.deleteSessionsOfUser(userId);
      log.warn({ operator: op.userId, userId, ended }, 'operator ended every session of a user');
      await audit.record({ type: 'admin_sessions_ended', userId, client: op.client, detail: `operator ${op.userId} ended ${ended}` });
      return ended;
    },

    async setDisabled(op, userId, disabled) {
      const user = await detail(userId);
      if (disabled && user.id === op.userId) throw new AppError('invalid_request', {}, { message: 'Operators cannot disable their own account.' });
      const now = deps.now();
      await accounts.setDisabled(userId, disabled ? now : null, now);
      // Disabling ends what the account's sessions proved.
      if (disabled) await accounts.deleteSessionsOfUser(userId);
      log.warn({ operator: op.userId, userId, disabled }, disabled ? 'operator disabled an account' : 'operator re-enabled an account');
      await audit.record({
        type: disabled ? 'account_disabled' : 'account_enabled',
        userId,
        client: op.client,
        phone: user.phone,
        detail: `operator ${op.userId}`,
      });
      return detail(userId);
    },

    async fraudGuard() {
      const [blocks, countries, prefixes] = await Promise.all([
        deps.fraudGuard.blocks(),
        deps.fraudGuard.figures('country', 50),
        deps.fraudGuard.figures('prefix', 50),
      ]);
      return { mode: deps.fraudGuard.mode, blocks, countries, prefixes };
    },

    async unblock(op, scope) {
      if (!(await deps.fraudGuard.unblock(scope, op))) throw new AppError('not_found', {}, { message: 'That destination is not blocked.' });
    },

    verifyServices: () => deps.verifyServices(),
    apiKeys: () => deps.apiKeys.list(),

    async createApiKey(op, name) {
      const created = await deps.apiKeys.create(name);
      log.warn({ operator: op.userId, keySid: created.sid }, 'operator created a Verify API key');
      await audit.record({ type: 'admin_api_key_created', userId: op.userId, client: op.client, detail: `api key ${created.sid}` });
      return created;
    },

    async revokeApiKey(op, sid) {
      if (!(await deps.apiKeys.revoke(sid))) throw new AppError('not_found', {}, { message: 'No live API key with that sid.' });
      log.warn({ operator: op.userId, keySid: sid }, 'operator revoked a Verify API key');
      await audit.record({ type: 'admin_api_key_revoked', userId: op.userId, client: op.client, detail: `api key ${sid}` });
    },

    async webhookDeliveries(state) {
      const rows = await deps.webhookDeliveries.list(100, state);
      // Field by field: the stored row also carries the payload (the event's data, with numbers).
      const deliveries = rows.map((d) => ({
        id: d.id,
        eventId: d.eventId,
        type: d.type,
        url: receiverUrlForDisplay(d.url),
        state: d.state,
        attempts: d.attempts,
        nextAttemptAt: d.nextAttemptAt,
        lastStatus: d.lastStatus,
        lastError: d.lastError,
        createdAt: d.createdAt,
        deliveredAt: d.deliveredAt,
      }));
      return { configured: deps.webhooksConfigured, deliveries };
    },

    async retryWebhookDelivery(op, id) {
      if (!(await deps.webhookDeliveries.retry(id, deps.now()))) {
        throw new AppError('not_found', {}, { message: 'No such delivery waiting or failed (a delivered one is not sent again).' });
      }
      await audit.record({ type: 'admin_webhook_retried', userId: op.userId, client: op.client, detail: `delivery ${id}` });
    },
  };
}
