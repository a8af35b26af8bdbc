/** Purposes a code can be issued for. A code for one purpose never satisfies another. */
export const PURPOSES = ['register', 'login', 'reset_password', 'change_phone'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** The human checks the service can put in front of an SMS send. */
/** Captcha kinds: the built-in image, Cloudflare Turnstile, hCaptcha, Tencent Captcha, GeeTest v4, or none. */
export const CAPTCHA_KINDS = ['image', 'turnstile', 'hcaptcha', 'tencent', 'geetest', 'off'] as const;
export type CaptchaKind = (typeof CAPTCHA_KINDS)[number];
