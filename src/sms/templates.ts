export { SMS_LOCALES, verificationText, type SmsLocale } from '../domain/messages.js';
