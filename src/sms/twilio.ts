import { SmsSendError, type SmsFailureKind, type SmsProvider } from './provider.js';
import { parseProviderJson, postToProvider, providerReason, stringField } from './provider-http.js';

/** Settings of twilioSmsProvider, named after the env vars they come from. */
export interface TwilioSmsOptions {
  /** TWILIO_ACCOUNT_SID */
  readonly accountSid: string | undefined;
  /** TWILIO_AUTH_TOKEN */
  readonly authToken: string | undefined;
  /** TWILIO_FROM: the sender, unless a Messaging Service is used. */
  readonly from: string | undefined;
  /** TWILIO_MESSAGING_SERVICE_SID: preferred over `from` when both are set. */
  readonly messagingServiceSid: string | undefined;
  /** TWILIO_API_BASE, e.g. https://api.twilio.com */
  readonly apiBase: string;
}

/**
 * Twilio's verdicts about the "To" number: invalid (21211), not a mobile (21614), opted out with
 * STOP (21610), unreachable by SMS (21612).
 */
const INVALID_NUMBER = new Set([21211, 21614, 21610, 21612]);

/**
 * Which kind of failure a Twilio answer is. Twilio reports no per-number frequency limit when a
 * message is created (those arrive later as 30xxx delivery errors), and its HTTP 429 (20429) is
 * the account's API concurrency, so it is `unavailable`: another provider can help.
 */
export function classifyTwilioAnswer(status: number, code: number | undefined): SmsFailureKind {
  if (code !== undefined && INVALID_NUMBER.has(code)) return 'invalid_number';
  if (status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
}

function required(value: string | undefined, envVar: string): string {
  if (!value) throw new Error(`Twilio: ${envVar} is not set; set it to enable SMS_PROVIDER=twilio`);
  return value;
}

/** Twilio Programmable Messaging: create a Message with HTTP Basic auth (Account SID : auth token). */
export function twilioSmsProvider(options: TwilioSmsOptions) {
  const accountSid = required(options.accountSid, 'TWILIO_ACCOUNT_SID');
  const authToken = required(options.authToken, 'TWILIO_AUTH_TOKEN');
  const sender: Record<string, string> = options.messagingServiceSid
    ? { MessagingServiceSid: options.messagingServiceSid }
    : { From: required(options.from, 'TWILIO_FROM') };
  const url = `${options.apiBase}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  return {
    name: 'twilio',
    async send(message, signal) {
      const body = new URLSearchParams({ To: message.to, Body: message.text, ...sender }).toString();
      const res = await postToProvider(
        'twilio',
        url,
        { headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body },
        signal,
      );
      const requestId = res.headers.get('twilio-request-id') ?? undefined;
      if (res.status >= 500) throw new SmsSendError('unavailable', `twilio: unexpected HTTP ${res.status}`, { requestId });
      const answer = parseProviderJson('twilio', res);
      if (res.status === 200 || res.status === 201) {
        const sid = stringField(answer, 'sid');
        if (!sid) throw new SmsSendError('unavailable', 'twilio: created without a sid', { requestId });
        return { providerMessageId: sid };
      }
      const rawCode = (answer as { code?: unknown } | null)?.code;
      const code = typeof rawCode === 'number' ? rawCode : undefined;
      throw new SmsSendError(classifyTwilioAnswer(res.status, code), `twilio: HTTP ${res.status}: ${providerReason(stringField(answer, 'message'))}`, {
        providerCode: code === undefined ? `HTTP ${res.status}` : String(code),
        requestId,
      });
    },
  } satisfies SmsProvider;
}
