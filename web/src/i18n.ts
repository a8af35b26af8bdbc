import { createI18n } from 'vue-i18n';
import en from './locales/en.js';
import zhCN, { type MessageSchema } from './locales/zh-CN.js';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** Chinese first: the service is built for mainland numbers and SMS. */
export const DEFAULT_LOCALE: Locale = 'zh-CN';
const STORAGE_KEY = 'sms-verify.lang';

/** `en`, `en-US`, `zh`, `zh-CN` … to a locale the pages have, or undefined. */
export function matchLocale(tag: string | null | undefined): Locale | undefined {
  const lower = tag?.trim().toLowerCase();
  if (!lower) return undefined;
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
  return undefined;
}

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be off (private mode, policy): the language is then simply not remembered.
    return null;
  }
}

/** Remembers the choice for the next visit. */
export function rememberLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // See readStored.
  }
}

/** `?lang=` wins (and is remembered), then the remembered choice, then Chinese. */
export function initialLocale(search: string): Locale {
  const fromQuery = matchLocale(new URLSearchParams(search).get('lang'));
  if (fromQuery) {
    rememberLocale(fromQuery);
    return fromQuery;
  }
  return matchLocale(readStored()) ?? DEFAULT_LOCALE;
}

export function createAppI18n(locale: Locale) {
  return createI18n<[MessageSchema], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: { 'zh-CN': zhCN, en },
  });
}
