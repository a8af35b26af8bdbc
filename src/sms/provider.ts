/** The SMS sender port is declared by the domain; providers implement it. */
export { SmsSendError, type SmsFailureKind, type SmsMessage, type SmsProvider, type SmsSendReceipt } from '../domain/ports.js';
