export { verificationText } from '../domain/messages.js';
