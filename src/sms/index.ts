import type { Config } from '../config.js';
import { consoleSmsProvider } from './console-provider.js';
import type { SmsProvider } from './provider.js';

/** The one place that turns SMS_PROVIDER into a provider; each provider checks its own settings. */
export function createSmsProvider(config: Config): SmsProvider {
  switch (config.smsProvider) {
    case 'console':
      return consoleSmsProvider({ outboxFile: config.smsOutboxFile, printText: config.env !== 'production' });
  }
}
