import type { Kysely, Selectable } from 'kysely';
import type { E164 } from '../domain/phone.js';
import type { ApiKeyRepository, SendAttempt, VerifyRepository, VerifyService, VerifyVerification, VerificationStatus } from '../domain/verify-api.js';
import type { DatabaseSchema, VerifyServicesTable, VerifyVerificationsTable } from './schema.js';

const serviceOf = (row: Selectable<VerifyServicesTable>): VerifyService => ({
  sid: row.sid,
  friendlyName: row.friendly_name,
  codeLength: Number(row.code_length),
  psd2Enabled: Number(row.psd2_enabled) === 1,
  doNotShareWarningEnabled: Number(row.do_not_share_warning_enabled) === 1,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const serviceRow = (s: VerifyService) => ({
  sid: s.sid,
  friendly_name: s.friendlyName,
  code_length: s.codeLength,
  psd2_enabled: s.psd2Enabled ? 1 : 0,
  do_not_share_warning_enabled: s.doNotShareWarningEnabled ? 1 : 0,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

const verificationOf = (row: Selectable<VerifyVerificationsTable>): VerifyVerification => ({
  sid: row.sid,
  serviceSid: row.service_sid,
  to: row.to_phone as E164,
  channel: 'sms',
  status: row.status as VerificationStatus,
  amount: row.amount,
  payee: row.payee,
  codeHandle: row.code_handle,
  sendAttempts: JSON.parse(row.send_attempts) as SendAttempt[],
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  expiresAt: Number(row.expires_at),
});

/** Services and verifications of the Verify API, on SQLite or PostgreSQL. */
export function kyselyVerifyRepository(db: Kysely<DatabaseSchema>): VerifyRepository {
  return {
    async insertService(service) {
      await db.insertInto('verify_services').values(serviceRow(service)).execute();
    },
    async listServices() {
      return (await db.selectFrom('verify_services').selectAll().orderBy('created_at').orderBy('sid').execute()).map(serviceOf);
    },
    async findService(sid) {
      const row = await db.selectFrom('verify_services').selectAll().where('sid', '=', sid).executeTakeFirst();
      return row && serviceOf(row);
    },
    async updateService(service) {
      const { sid: _sid, created_at: _created, ...changes } = serviceRow(service);
      await db.updateTable('verify_services').set(changes).where('sid', '=', service.sid).execute();
    },
    async deleteService(sid) {
      // Explicitly, not by the foreign key's cascade: SQLite enforces foreign keys only when asked to.
      await db.deleteFrom('verify_verifications').where('service_sid', '=', sid).execute();
      const result = await db.deleteFrom('verify_services').where('sid', '=', sid).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async insertVerification(v) {
      await db
        .insertInto('verify_verifications')
        .values({
          sid: v.sid,
          service_sid: v.serviceSid,
          to_phone: v.to,
          channel: v.channel,
          status: v.status,
          amount: v.amount,
          payee: v.payee,
          code_handle: v.codeHandle,
          send_attempts: JSON.stringify(v.sendAttempts),
          created_at: v.createdAt,
          updated_at: v.updatedAt,
          expires_at: v.expiresAt,
        })
        .execute();
    },
    async findVerification(serviceSid, sid) {
      const row = await db
        .selectFrom('verify_verifications')
        .selectAll()
        .where('sid', '=', sid)
        .where('service_sid', '=', serviceSid)
        .executeTakeFirst();
      return row && verificationOf(row);
    },
    async findPendingByTo(serviceSid, to, now) {
      const row = await db
        .selectFrom('verify_verifications')
        .selectAll()
        .where('service_sid', '=', serviceSid)
        .where('to_phone', '=', to)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && verificationOf(row);
    },
    async recordResend(sid, codeHandle, sendAttempts, expiresAt, now) {
      await db
        .updateTable('verify_verifications')
        .set({ code_handle: codeHandle, send_attempts: JSON.stringify(sendAttempts), expires_at: expiresAt, updated_at: now })
        .where('sid', '=', sid)
        .execute();
    },
    async finish(sid, status, now) {
      // Conditional on pending, so of two requests that race to finish it exactly one succeeds.
      const result = await db
        .updateTable('verify_verifications')
        .set({ status, updated_at: now })
        .where('sid', '=', sid)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

/** API keys, on SQLite or PostgreSQL. Only the keyed hash of a secret is stored. */
export function kyselyApiKeyRepository(db: Kysely<DatabaseSchema>): ApiKeyRepository {
  const keyOf = (row: Selectable<DatabaseSchema['api_keys']>) => ({
    sid: row.sid,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  });
  return {
    async insert(key) {
      await db
        .insertInto('api_keys')
        .values({ sid: key.sid, name: key.name, secret_hash: key.secretHash, created_at: key.createdAt, revoked_at: key.revokedAt })
        .execute();
    },
    async find(sid) {
      const row = await db.selectFrom('api_keys').selectAll().where('sid', '=', sid).executeTakeFirst();
      return row && keyOf(row);
    },
    async list() {
      return (await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('sid').execute()).map(keyOf);
    },
    async revoke(sid, now) {
      const result = await db.updateTable('api_keys').set({ revoked_at: now }).where('sid', '=', sid).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
