import { appendFile } from 'node:fs/promises';
import { maskPhone } from '../domain/phone.js';
import type { SmsProvider } from './provider.js';

export interface ConsoleProviderOptions {
  /** Append one JSON line per message here (development and end-to-end tests read codes from it). */
  outboxFile?: string;
  /** Print the message text (with the code). Off in production, where only the masked number is printed. */
  printText: boolean;
  /** Where the "[sms] …" lines go. */
  write?: (line: string) => void;
}

/** A development provider: prints messages instead of sending them. Never use it to test a real provider. */
export function consoleSmsProvider(options: ConsoleProviderOptions): SmsProvider {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  return {
    name: 'console',
    async send(message) {
      const text = options.printText ? ` text=${JSON.stringify(message.text)}` : '';
      write(`[sms] to=${maskPhone(message.to)} purpose=${message.purpose}${text}`);
      if (options.outboxFile) {
        const line = { to: message.to, text: message.text, purpose: message.purpose, at: new Date().toISOString() };
        await appendFile(options.outboxFile, `${JSON.stringify(line)}\n`, 'utf8');
      }
      return { providerMessageId: message.messageId };
    },
  } satisfies SmsProvider;
}
