import type { Config, SmsProviderName } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { aliyunSmsProvider } from './aliyun.js';
import { consoleSmsProvider } from './console-provider.js';
import { failoverSmsProvider } from './failover.js';
import { recordedSmsProvider, type SmsMessageLog } from './message-log.js';
import { reachableRegions, routedSmsProvider } from './routes.js';
import type { SmsProvider } from './provider.js';
import { tencentSmsProvider } from './tencent.js';
import { twilioSmsProvider } from './twilio.js';

export interface SmsProviderDeps {
  readonly log: Logger;
  /** Where each attempt is recorded. */
  readonly messages: SmsMessageLog;
  /** The service clock, for the message log's timestamps (providers sign with the real clock). */
  readonly now: () => number;
  /** Told when a provider's circuit breaker opens or closes. */
  readonly onCircuitChange?: (provider: string, open: boolean) => void;
}

/** The one place that turns a provider name into a provider; each provider checks its own settings. */
function createOne(name: SmsProviderName, config: Config): SmsProvider {
  switch (name) {
    case 'console':
      return consoleSmsProvider({ outboxFile: config.smsOutboxFile, printText: config.env !== 'production' });
    case 'tencent':
      return tencentSmsProvider(config.tencent);
    case 'aliyun':
      return aliyunSmsProvider(config.aliyun);
    case 'twilio':
      return twilioSmsProvider(config.twilio);
  }
}

/** One ordered list of providers: each recorded in the message log and guarded by its own circuit breaker (see failover.ts). */
function createChain(names: readonly SmsProviderName[], config: Config, deps: SmsProviderDeps): SmsProvider {
  const providers = names.map((name) => recordedSmsProvider(createOne(name, config), deps.messages, deps));
  return failoverSmsProvider(providers, { timeoutMs: config.smsProviderTimeoutMs, breaker: config.smsCircuit, log: deps.log, onCircuitChange: deps.onCircuitChange });
}

/**
 * SMS_ROUTES, one chain per destination route (routes.ts); without it SMS_PROVIDER, one chain for
 * every destination.
 */
export function createSmsProvider(config: Config, deps: SmsProviderDeps): SmsProvider {
  if (!config.smsRoutes) return createChain(config.smsProvider, config, deps);
  return routedSmsProvider(config.smsRoutes.map((route) => ({ regions: route.regions, provider: createChain(route.providers, config, deps) })));
}

/** The regions a code may be sent to: SMS_ALLOWED_COUNTRIES less those no SMS_ROUTES route covers. */
export function smsReachableRegions(config: Config): readonly string[] | '*' {
  return reachableRegions(config.limits.allowedCountries, config.smsRoutes);
}
