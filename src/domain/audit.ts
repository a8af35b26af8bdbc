import { randomUUID } from 'node:crypto';
import type { ClientContext } from './client.js';
import type { Logger } from './logger.js';
import { maskPhone } from './phone.js';

/** The security events the service records. */
export const AUDIT_EVENT_TYPES = [
  'sms_sent',
  'code_failed',
  'lockout',
  'sign_up',
  'sign_in',
  'sign_in_failed',
  'password_reset',
  'two_factor_enabled',
  'two_factor_disabled',
  'two_factor_failed',
  'recovery_code_used',
  'phone_changed',
  'sessions_revoked',
  'recovery_codes_regenerated',
  'refresh_token_reused',
  // Issue 14: the fraud guard and the operators' actions in the admin console.
  'fraud_guard_blocked',
  'fraud_guard_unblocked',
  'operator_granted',
  'operator_revoked',
  'admin_user_viewed',
  'admin_phone_revealed',
  'admin_sessions_ended',
  'account_disabled',
  'account_enabled',
  'admin_api_key_created',
  'admin_api_key_revoked',
  'admin_webhook_retried',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** One stored event. The phone is masked before it is stored; codes, passwords and tokens never are. */
export interface AuditEvent {
  readonly id: string;
  readonly at: number;
  readonly type: AuditEventType;
  readonly userId: string | null;
  readonly phoneMasked: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** A short machine-readable note: the purpose of a code, the sign-in method. */
  readonly detail: string | null;
}

/** Persistence of audit events; implemented with Kysely in src/db/audit-log.ts. */
export interface AuditLogRepository {
  insert(event: AuditEvent): Promise<void>;
  /** The newest `limit` events of one user, newest first. */
  listForUser(userId: string, limit: number): Promise<AuditEvent[]>;
}

export interface AuditInput {
  readonly type: AuditEventType;
  readonly userId?: string | undefined;
  /** Full E.164; masked here, before it reaches storage. */
  readonly phone?: string | undefined;
  readonly client?: ClientContext | undefined;
  readonly detail?: string | undefined;
}

export interface AuditLog {
  record(input: AuditInput): Promise<void>;
  listForUser(userId: string, limit?: number): Promise<AuditEvent[]>;
}

/** A header is the client's to fill: keep it short and printable so it cannot flood the table or a log viewer. */
export function cleanUserAgent(ua: string | undefined): string | null {
  if (!ua) return null;
  // eslint-disable-next-line no-control-regex
  return ua.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 256) || null;
}

/**
 * Records security events. A failure to write one is logged and swallowed: the audit log is a
 * record of what happened, and losing a row must not turn a sign-in into a 500.
 */
export function createAuditLog(repo: AuditLogRepository, now: () => number, log: Logger): AuditLog {
  let sequence = 0;
  return {
    async record(input) {
      const at = now();
      const event: AuditEvent = {
        // Sortable (time, then this process's sequence), so events of one millisecond keep their order.
        id: `${String(at).padStart(15, '0')}-${String(sequence++ % 1e6).padStart(6, '0')}-${randomUUID()}`,
        at,
        type: input.type,
        userId: input.userId ?? null,
        phoneMasked: input.phone ? maskPhone(input.phone) : null,
        ip: input.client?.ip.slice(0, 64) ?? null,
        userAgent: cleanUserAgent(input.client?.userAgent),
        detail: input.detail ?? null,
      };
      try {
        await repo.insert(event);
      } catch (err) {
        log.error({ err, type: input.type }, 'could not record audit event');
      }
    },
    listForUser: (userId, limit = 50) => repo.listForUser(userId, limit),
  };
}
