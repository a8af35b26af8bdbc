import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { kyselySmsMessageLog } from '../../src/db/sms-message-repository.js';
import type { SmsMessageLog, SmsMessageRecord } from '../../src/sms/message-log.js';

const sent: SmsMessageRecord = {
  id: 'attempt-1',
  messageId: 'message-1',
  provider: 'tencent',
  providerMessageId: '2433:100',
  phone: '+8613800138000',
  purpose: 'register',
  status: 'sent',
  errorCode: undefined,
  fee: 1,
  createdAt: 1_000,
  updatedAt: 1_000,
};

describe('the sms_messages log on Kysely (SQLite)', () => {
  let database: Database;
  let log: SmsMessageLog;
  beforeEach(async () => {
    database = openSqliteDatabase(':memory:');
    await migrateToLatest(database.db);
    log = kyselySmsMessageLog(database.db);
  });
  afterEach(async () => {
    await database.close();
  });

  it('keeps an attempt and finds it by the provider id', async () => {
    await log.record(sent);
    expect(await log.findByProviderMessageId('tencent', '2433:100')).toEqual(sent);
    expect(await log.findByProviderMessageId('aliyun', '2433:100')).toBeUndefined();
  });

  it('applies delivered and undelivered reports with the time and the carrier code', async () => {
    await log.record(sent);
    expect(await log.applyDeliveryReport({ provider: 'tencent', providerMessageId: '2433:100', delivered: false, errorCode: 'MK:0005' }, 2_000)).toBe(1);
    expect(await log.findByProviderMessageId('tencent', '2433:100')).toMatchObject({ status: 'undelivered', errorCode: 'MK:0005', updatedAt: 2_000, createdAt: 1_000 });
    await log.applyDeliveryReport({ provider: 'tencent', providerMessageId: '2433:100', delivered: true, errorCode: 'DELIVRD' }, 3_000);
    expect(await log.findByProviderMessageId('tencent', '2433:100')).toMatchObject({ status: 'delivered', errorCode: undefined });
  });

  it('matches nothing for an unknown id, another provider, or a failed attempt', async () => {
    await log.record({ ...sent, id: 'attempt-2', providerMessageId: 'failed-1', status: 'failed', errorCode: 'AuthFailure.SignatureFailure' });
    const report = { provider: 'tencent', delivered: true, errorCode: undefined };
    expect(await log.applyDeliveryReport({ ...report, providerMessageId: 'nope' }, 2_000)).toBe(0);
    expect(await log.applyDeliveryReport({ ...report, provider: 'aliyun', providerMessageId: 'failed-1' }, 2_000)).toBe(0);
    expect(await log.applyDeliveryReport({ ...report, providerMessageId: 'failed-1' }, 2_000)).toBe(0);
    expect(await log.findByProviderMessageId('tencent', 'failed-1')).toMatchObject({ status: 'failed' });
  });
});
