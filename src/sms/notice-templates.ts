export { alreadyRegisteredText, notRegisteredText, phoneChangedText } from '../domain/messages.js';
