/**
 * The characters an image captcha draws: capitals and digits that a person cannot mistake for
 * one another even when warped (no 0/O/Q/D, 1/I/L, 2/Z, 5/S, 6/G, 8/B, U/V). The answer is not
 * case-sensitive, so a person may type them in lower case too.
 */
export const CAPTCHA_ALPHABET = '34789ACEFHJKMNPRTWXY';

/** Characters per challenge: 20^4 = 160,000 answers, so a blind guess passes once in 160,000. */
export const CAPTCHA_LENGTH = 4;
