import type { Admission } from '../domain/admission.js';
import { phoneRegion, type E164 } from '../domain/phone.js';
import type { VerificationService } from '../domain/verification.js';
import { AppError } from '../errors.js';
import type { Limits, RateLimit } from '../limits/types.js';
import type { SmsMessageLog } from '../sms/message-log.js';
import type { Metrics } from './index.js';

/*
 * The metrics are taken at the edges of the domain (its limits, its message log, its service),
 * so the domain itself knows nothing of Prometheus.
 */

/** Every rule counts its refusals under its own name. */
export function countedLimits(limits: Limits, metrics: Metrics): Limits {
  const counted = (rule: RateLimit): RateLimit => ({
    name: rule.name,
    points: rule.points,
    windowSeconds: rule.windowSeconds,
    used: (key, now) => rule.used(key, now),
    async take(key, now) {
      const decision = await rule.take(key, now);
      if (!decision.allowed) metrics.limitRefusals.inc({ limit: rule.name });
      return decision;
    },
  });
  const entries = Object.entries(limits).map(([name, value]) => [
    name,
    value && typeof value === 'object' && 'take' in value ? counted(value as RateLimit) : value,
  ]);
  return Object.fromEntries(entries) as unknown as Limits;
}

/** The admission step's refusals by limit, under the same names as the limits' own (the cooldown is no limit). */
export function countedAdmission(admission: Admission, metrics: Metrics): Admission {
  return {
    name: admission.name,
    async admitSend(request) {
      const decision = await admission.admitSend(request);
      if (!decision.admitted && decision.refusedBy !== 'cooldown') metrics.limitRefusals.inc({ limit: decision.refusedBy });
      return decision;
    },
    abortSend: (request) => admission.abortSend(request),
    dailyBudgetUsed: (now) => admission.dailyBudgetUsed(now),
    async check(request) {
      const result = await admission.check(request);
      if (result.outcome === 'refused') metrics.limitRefusals.inc({ limit: result.refusedBy });
      return result;
    },
  };
}

/** Provider attempts, fees and delivery reports, as the message log sees them. */
export function countedMessageLog(messages: SmsMessageLog, metrics: Metrics): SmsMessageLog {
  return {
    async record(entry) {
      metrics.smsSent.inc({ provider: entry.provider, status: entry.status, country: phoneRegion(entry.phone as E164) ?? 'unknown' });
      if (entry.fee) metrics.smsFee.inc({ provider: entry.provider }, entry.fee);
      return messages.record(entry);
    },
    async applyDeliveryReport(report, now) {
      const matched = await messages.applyDeliveryReport(report, now);
      if (matched > 0) metrics.smsDeliveryReports.inc({ provider: report.provider, status: report.delivered ? 'delivered' : 'undelivered' });
      return matched;
    },
    findByProviderMessageId: (provider, id) => messages.findByProviderMessageId(provider, id),
  };
}

const resultOf = (err: unknown) => (err instanceof AppError ? err.code : 'error');

/** Checks by result on the end-user API surface, and the fraud guard's refusals. */
export function countedVerification(service: VerificationService, metrics: Metrics): VerificationService {
  return {
    ...service,
    async send(request) {
      try {
        return await service.send(request);
      } catch (err) {
        if (err instanceof AppError && err.code === 'destination_blocked') metrics.limitRefusals.inc({ limit: 'fraud_guard' });
        throw err;
      }
    },
    async consume(...args) {
      try {
        const consumed = await service.consume(...args);
        metrics.checks.inc({ surface: 'api', result: 'valid' });
        return consumed;
      } catch (err) {
        metrics.checks.inc({ surface: 'api', result: resultOf(err) });
        throw err;
      }
    },
  };
}
