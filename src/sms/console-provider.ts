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

/**
 * Lines for stdout, written together once per turn of the event loop. stdout to a file or a pipe
 * is a synchronous system call per write on Linux; a send already writes its log line (pino,
 * asynchronous), and this line was a second synchronous write per SMS. Whatever is still queued
 * when the process exits is written then.
 */
let queued: string[] = [];
let exitHooked = false;
function flushStdout(): void {
  if (queued.length === 0) return;
  const text = queued.join('');
  queued = [];
  process.stdout.write(text);
}
function writeStdoutBatched(line: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushStdout);
  }
  if (queued.push(`${line}\n`) === 1) setImmediate(flushStdout);
}

/** A development provider: prints messages instead of sending them. Never use it to test a real provider. */
export function consoleSmsProvider(options: ConsoleProviderOptions): SmsProvider {
  const write = options.write ?? writeStdoutBatched;
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
