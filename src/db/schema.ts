import type { Generated } from 'kysely';

/** Tables as Kysely sees them. Times are epoch milliseconds (bigint in PostgreSQL, INTEGER in SQLite). */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  pending_codes: PendingCodesTable;
  captchas: CaptchasTable;
  sms_messages: SmsMessagesTable;
}

export interface UsersTable {
  id: string;
  /** E.164, unique: the database, not the code, guarantees one account per number. */
  phone: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
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
