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
  api_keys: ApiKeysTable;
  verify_services: VerifyServicesTable;
  verify_verifications: VerifyVerificationsTable;
  signing_keys: SigningKeysTable;
  refresh_token_families: RefreshTokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  webhook_deliveries: WebhookDeliveriesTable;
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
  /** Bumped by every credential change (password reset, phone change, 2FA on); migration 006. */
  credential_version: Generated<number>;
  /** Set while an operator has disabled the account (migration 009). */
  disabled_at: number | null;
}

export interface SessionsTable {
  /** Keyed hash of the session token; the token itself is never stored. */
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  /** The user's credential_version the sign-in proved; an older one than the user's is refused. */
  credential_version: Generated<number>;
  /** As sent at sign-in, trimmed (migration 005). */
  user_agent: string | null;
  ip: string | null;
  /** Last authenticated request, at most a minute stale. */
  last_seen_at: number | null;
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
  /** As for sessions: the password was proven at this version. */
  credential_version: Generated<number>;
  /** Migration 008: how the first step was proven (pwd, sms). */
  first_factor: string | null;
}

export interface ApiKeysTable {
  sid: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface VerifyServicesTable {
  sid: string;
  friendly_name: string;
  code_length: number;
  psd2_enabled: number;
  do_not_share_warning_enabled: number;
  created_at: number;
  updated_at: number;
}

export interface VerifyVerificationsTable {
  sid: string;
  service_sid: string;
  to_phone: string;
  channel: string;
  status: string;
  amount: string | null;
  payee: string | null;
  code_handle: string;
  send_attempts: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  /** Migration 008: how the first step was proven (pwd, sms). */
  first_factor: string | null;
}

/** Migration 008: access token signing keys; the private half sealed under SECRET. */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: number;
  retired_at: number | null;
}

/** Migration 008: one per session that was handed a refresh token. */
export interface RefreshTokenFamiliesTable {
  id: string;
  session_id: string;
  user_id: string;
  amr: string;
  created_at: number;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  created_at: number;
  expires_at: number;
  spent_at: number | null;
}

/** Migration 008: the webhook outbox, one row per event and receiver. */
export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  type: string;
  url: string;
  payload: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: number;
  claim: string | null;
  claimed_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}
