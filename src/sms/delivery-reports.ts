import type { DeliveryReport, SmsMessageLog } from './message-log.js';

/** One entry of Tencent's status callback (an array of these). Fields we do not use are ignored. */
export interface TencentStatusReport {
  readonly sid: string;
  /** SUCCESS or FAIL. */
  readonly report_status: string;
  /** DELIVRD on success, the carrier's code otherwise. */
  readonly errmsg?: string;
  readonly mobile?: string;
  readonly user_receive_time?: string;
  readonly description?: string;
}

/** One entry of Aliyun's SmsReport push (an array of these). */
export interface AliyunSmsReport {
  readonly biz_id: string;
  readonly success: boolean;
  /** DELIVERED on success, the carrier's code otherwise. */
  readonly err_code?: string;
  readonly phone_number?: string;
  readonly report_time?: string;
}

export const fromTencentReport = (r: TencentStatusReport): DeliveryReport => ({
  provider: 'tencent',
  providerMessageId: r.sid,
  delivered: r.report_status === 'SUCCESS',
  errorCode: r.errmsg,
});

export const fromAliyunReport = (r: AliyunSmsReport): DeliveryReport => ({
  provider: 'aliyun',
  providerMessageId: r.biz_id,
  delivered: r.success,
  errorCode: r.err_code,
});

/**
 * Applies a batch of reports to the message log. Reports for messages we never logged are
 * counted, not refused: the provider would only retry them.
 */
export async function applyDeliveryReports(
  messages: SmsMessageLog,
  reports: readonly DeliveryReport[],
  now: number,
): Promise<{ matched: number; unknown: number }> {
  let matched = 0;
  for (const report of reports) {
    if ((await messages.applyDeliveryReport(report, now)) > 0) matched += 1;
  }
  return { matched, unknown: reports.length - matched };
}
