import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics (GET /metrics, README "Metrics"). One registry per service instance, so
 * tests that build several apps do not share counters; counters are per process, as Prometheus
 * expects. Labels are bounded: providers, statuses, countries, catalogue codes, limit names and
 * route patterns, never a number, a URL or a user.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One per provider attempt: status sent or failed; country is the number's region. */
  readonly smsSent: Counter<'provider' | 'status' | 'country'>;
  /** Delivery reports by provider and outcome (delivered or undelivered). */
  readonly smsDeliveryReports: Counter<'provider' | 'status'>;
  /** Billed SMS units the providers reported. */
  readonly smsFee: Counter<'provider'>;
  /** Code checks by surface (api, later verify) and result (valid or the error code). */
  readonly checks: Counter<'surface' | 'result'>;
  /** Refusals by limit name (sms_phone_h, …, fraud_guard). */
  readonly limitRefusals: Counter<'limit'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly circuitOpen: Gauge<'provider'>;
}

export interface MetricSources {
  /** Active blocks (enforced or, in monitor mode, flagged) by kind; read at scrape time. */
  readonly fraudGuardBlocks: () => { kind: 'prefix' | 'country' }[];
  /** Share of SMS_DAILY_BUDGET used today, or undefined without a budget; read at scrape time. */
  readonly dailyBudgetUsedRatio: () => Promise<number | undefined>;
}

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    smsSent: new Counter({
      name: 'sms_verify_sms_sent_total',
      help: 'SMS provider attempts by provider, status (sent, failed) and destination country.',
      labelNames: ['provider', 'status', 'country'],
      registers,
    }),
    smsDeliveryReports: new Counter({
      name: 'sms_verify_sms_delivery_reports_total',
      help: 'Delivery reports received, by provider and status (delivered, undelivered).',
      labelNames: ['provider', 'status'],
      registers,
    }),
    smsFee: new Counter({
      name: 'sms_verify_sms_fee_total',
      help: 'Billed SMS units reported by the providers.',
      labelNames: ['provider'],
      registers,
    }),
    checks: new Counter({
      name: 'sms_verify_checks_total',
      help: 'Code checks by surface and result (valid, or the error code answered).',
      labelNames: ['surface', 'result'],
      registers,
    }),
    limitRefusals: new Counter({
      name: 'sms_verify_limit_refusals_total',
      help: 'Requests refused by a limit, by limit name (fraud_guard for the SMS-pumping guard).',
      labelNames: ['limit'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'sms_verify_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'sms_verify_provider_circuit_open',
      help: '1 while the provider circuit breaker is open (the provider is skipped), else 0.',
      labelNames: ['provider'],
      registers,
    }),
  };
  new Gauge({
    name: 'sms_verify_fraud_guard_blocked_prefixes',
    help: 'Destinations the fraud guard blocks (or, in monitor mode, flags) now, by kind (prefix, country), as this instance knows them.',
    labelNames: ['kind'],
    registers,
    collect() {
      const blocks = sources.fraudGuardBlocks();
      this.set({ kind: 'prefix' }, blocks.filter((b) => b.kind === 'prefix').length);
      this.set({ kind: 'country' }, blocks.filter((b) => b.kind === 'country').length);
    },
  });
  new Gauge({
    name: 'sms_verify_daily_budget_used_ratio',
    help: 'Share of SMS_DAILY_BUDGET used in the current UTC day (absent without a budget).',
    registers,
    async collect() {
      const ratio = await sources.dailyBudgetUsedRatio().catch(() => undefined);
      if (ratio === undefined) this.reset();
      else this.set(ratio);
    },
  });
  return metrics;
}
