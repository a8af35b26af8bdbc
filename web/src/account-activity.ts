import type { ActivityEvent } from './api.js';
import type { MessageSchema } from './locales/zh-CN.js';
import { displayMasked } from './phone-display.js';

type EventName = keyof MessageSchema['activity']['events'];
type DetailName = keyof MessageSchema['activity']['details'];

/** One line of the activity list, not yet translated. */
export interface ActivityLine {
  key: `activity.events.${EventName}`;
  detail?: { key: `activity.details.${DetailName}`; params?: Record<string, string | number> };
  at: Date;
  /** Masked by the server before it was stored. */
  phone: string | null;
  ip: string | null;
}

const KNOWN_DETAILS = new Set<string>([
  'password',
  'sms',
  'second_factor',
  'reauthentication',
  'register',
  'login',
  'reset_password',
  'change_phone',
]);

function isEventName(type: string, events: MessageSchema['activity']['events']): type is EventName {
  return type !== 'other' && Object.hasOwn(events, type);
}

/** The server's short machine note (`login`, `register:notice`, `left=9`, `from 138****8000`) as words, when it has some. */
function describeDetail(detail: string | null): ActivityLine['detail'] {
  if (!detail) return undefined;
  const left = /^left=(\d+)$/.exec(detail);
  if (left) return { key: 'activity.details.recoveryLeft', params: { n: Number(left[1]) } };
  const from = /^from (\S+)$/.exec(detail);
  if (from) return { key: 'activity.details.from', params: { phone: displayMasked(from[1]!) } };
  // "register:notice": the SMS told a registered number it already has an account (strict privacy), it carried no code.
  const purpose = detail.endsWith(':notice') ? detail.slice(0, -':notice'.length) : detail;
  if (purpose !== detail && KNOWN_DETAILS.has(purpose)) return { key: 'activity.details.notice' };
  if (KNOWN_DETAILS.has(detail)) return { key: `activity.details.${detail as DetailName}` };
  // A note this build does not know says nothing a person can use: leave it out rather than show a machine word.
  return undefined;
}

/**
 * An audit event as the account page lists it. Event types this build does not know (a newer
 * server) still show, as "other security event", so nothing security-relevant is hidden.
 */
export function describeActivity(event: ActivityEvent, events: MessageSchema['activity']['events']): ActivityLine {
  const line: ActivityLine = {
    key: isEventName(event.type, events) ? `activity.events.${event.type}` : 'activity.events.other',
    at: new Date(event.at),
    phone: event.phone === null ? null : displayMasked(event.phone),
    ip: event.ip,
  };
  const detail = describeDetail(event.detail);
  if (detail) line.detail = detail;
  return line;
}

/** "25 Nov 2026, 14:56" in the page's language and the person's time zone. */
export function formatActivityTime(at: Date, locale: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(at);
}
