import type { Kysely, Selectable } from 'kysely';
import type { Purpose } from '../config.js';
import type { SmsMessageLog, SmsMessageRecord, SmsMessageStatus } from '../sms/message-log.js';
import type { Logger } from '../domain/logger.js';
import { rowBatcher } from './row-batcher.js';
import type { DatabaseSchema, SmsMessagesTable } from './schema.js';

// PostgreSQL returns bigint columns as strings, SQLite as numbers.
const toRecord = (row: Selectable<SmsMessagesTable>): SmsMessageRecord => ({
  id: row.id,
  messageId: row.message_id,
  provider: row.provider,
  providerMessageId: row.provider_message_id ?? undefined,
  phone: row.phone,
  purpose: row.purpose as Purpose,
  status: row.status as SmsMessageStatus,
  errorCode: row.error_code ?? undefined,
  fee: row.fee === null ? undefined : Number(row.fee),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

const toRow = (entry: SmsMessageRecord) => ({
  id: entry.id,
  message_id: entry.messageId,
  provider: entry.provider,
  provider_message_id: entry.providerMessageId ?? null,
  phone: entry.phone,
  purpose: entry.purpose,
  status: entry.status,
  error_code: entry.errorCode ?? null,
  fee: entry.fee ?? null,
  created_at: entry.createdAt,
  updated_at: entry.updatedAt,
});

export interface KyselySmsMessageLog extends SmsMessageLog {
  /** Several attempts in one statement. */
  recordMany(entries: readonly SmsMessageRecord[]): Promise<void>;
}

/** The message log on Kysely, in portable SQL only (SQLite now, PostgreSQL later). */
export function kyselySmsMessageLog(db: Kysely<DatabaseSchema>): KyselySmsMessageLog {
  return {
    async record(entry) {
      await db.insertInto('sms_messages').values(toRow(entry)).execute();
    },
    async recordMany(entries) {
      if (entries.length > 0) await db.insertInto('sms_messages').values(entries.map(toRow)).execute();
    },
    async applyDeliveryReport(report, now) {
      const result = await db
        .updateTable('sms_messages')
        .set({
          status: report.delivered ? 'delivered' : 'undelivered',
          error_code: report.delivered ? null : (report.errorCode ?? null),
          updated_at: now,
        })
        .where('provider', '=', report.provider)
        .where('provider_message_id', '=', report.providerMessageId)
        // A report is about a message the provider accepted; a failed attempt has no report to take.
        .where('status', '!=', 'failed')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async findByProviderMessageId(provider, providerMessageId) {
      const row = await db
        .selectFrom('sms_messages')
        .selectAll()
        .where('provider', '=', provider)
        .where('provider_message_id', '=', providerMessageId)
        .executeTakeFirst();
      return row && toRecord(row);
    },
  } satisfies KyselySmsMessageLog;
}

/**
 * The message log written in batches off the request path (db/row-batcher.ts). A delivery report
 * or a lookup writes what is queued first, so a report that arrives right after the send finds
 * its row.
 */
export function batchedSmsMessageLog(messages: KyselySmsMessageLog, log: Logger): SmsMessageLog & { flush(): Promise<void>; close(): Promise<void> } {
  const batcher = rowBatcher<SmsMessageRecord>({ name: 'sms message log rows', writeAll: (rows) => messages.recordMany(rows), log });
  return {
    async record(entry) {
      batcher.add(entry);
    },
    async applyDeliveryReport(report, now) {
      await batcher.flush();
      return messages.applyDeliveryReport(report, now);
    },
    async findByProviderMessageId(provider, providerMessageId) {
      await batcher.flush();
      return messages.findByProviderMessageId(provider, providerMessageId);
    },
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
