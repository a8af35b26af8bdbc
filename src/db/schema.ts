import type { Generated } from 'kysely';

/** Tables as Kysely sees them. Times are epoch milliseconds (bigint in PostgreSQL, INTEGER in SQLite). */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  pending_codes: PendingCodesTable;
  captchas: CaptchasTable;
  sms_messages: SmsMessagesTable;
  audit_events: AuditEventsTable;
  two_factor: TwoFactorTable;
  recovery_codes: RecoveryCodesTable;
  login_tickets: LoginTicketsTable;
  fraud_guard_counts: FraudGuardCountsTable;
  fraud_guard_blocks: FraudGuardBlocksTable;
  operators: OperatorsTable;
}

/** The fraud guard's five-minute buckets (migration 009); see src/domain/fraud-guard.ts. */
export interface FraudGuardCountsTable {
  scope: string;
  bucket: number;
  sent: number;
  verified: number;
}

export interface FraudGuardBlocksTable {
  scope: string;
  blocked_at: number;
  until: number;
  enforced: number;
  window: string;
  sent: number;
  verified: number;
}

/** Users who may open the admin console (npm run admin -- grant). */
export interface OperatorsTable {
  user_id: string;
  granted_at: number;
}

export interface UsersTable {
  id: string;
  /** E.164, unique: the database, not the code, guarantees one account per number. */
  phone: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
  /** Set while an operator has disabled the account (migration 009). */
  disabled_at: number | null;
}

export interface SessionsTable {
  /** Keyed hash of the session token; the token itself is never stored. */
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

export interface PendingCodesTable {
  phone: string;
  purpose: string;
  code_hash: string;
  expires_at: number;
  resend_at: number;
  attempts: Generated<number>;
}

export interface CaptchasTable {
  id: string;
  answer_hash: string;
  expires_at: number;
}

/** The SMS message log; see src/sms/message-log.ts. */
export interface SmsMessagesTable {
  id: string;
  message_id: string;
  provider: string;
  provider_message_id: string | null;
  phone: string;
  purpose: string;
  status: string;
  error_code: string | null;
  fee: number | null;
  created_at: number;
  updated_at: number;
}

/** Security events (migration 003). Phones are masked before they are stored. */
export interface AuditEventsTable {
  id: string;
  at: number;
  type: string;
  user_id: string | null;
  phone_masked: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
}

export interface TwoFactorTable {
  user_id: string;
  secret_encrypted: string;
  created_at: number;
  enabled_at: number | null;
  last_step: number | null;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

export interface LoginTicketsTable {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}
