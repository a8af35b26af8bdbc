import { SmsSendError } from './provider.js';

/** A provider's HTTP answer, read in full. */
export interface ProviderResponse {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/**
 * POSTs to a provider with the caller's AbortSignal, so a deadline closes the socket instead of
 * leaving it to the provider's (or undici's) own minutes-long timeouts. Network failures and
 * aborts become `unavailable`, with the cause kept for the log.
 */
export async function postToProvider(
  provider: string,
  url: string,
  init: { headers: Record<string, string>; body: string },
  signal: AbortSignal,
): Promise<ProviderResponse> {
  try {
    const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal, redirect: 'error' });
    return { status: res.status, text: await res.text(), headers: res.headers };
  } catch (err) {
    const reason = signal.aborted ? 'request aborted at the deadline' : 'network error';
    throw new SmsSendError('unavailable', `${provider}: ${reason}`, { cause: err });
  }
}

/** Parses a JSON body, or fails as `unavailable`: a body we cannot read says nothing about the message. */
export function parseProviderJson(provider: string, res: ProviderResponse): unknown {
  try {
    return JSON.parse(res.text) as unknown;
  } catch (err) {
    throw new SmsSendError('unavailable', `${provider}: HTTP ${res.status} with a body that is not JSON`, { cause: err });
  }
}

/**
 * A provider's own message, fit for the log: numbers are cut down (Twilio repeats the full "To"
 * number in its messages) and the length is bounded.
 */
export function providerReason(text: unknown): string {
  const value = typeof text === 'string' ? text : '';
  return value.replace(/\+?\d[\d -]{5,}(\d{4})/g, '****$1').slice(0, 200);
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const stringField = (value: unknown, key: string): string | undefined => {
  const field = isRecord(value) ? value[key] : undefined;
  return typeof field === 'string' ? field : undefined;
};
