/**
 * The one form open on the account page at a time. Turning 2FA off and changing the number both
 * ask for the current password and an authenticator code: one open form keeps each label naming
 * one input, and the page short on a phone screen.
 */
export type AccountPanel = 'setup2fa' | 'enable2fa' | 'disable2fa' | 'regenerateCodes' | 'changePhone';
