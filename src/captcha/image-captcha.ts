import { randomInt, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { hashesEqual, type Hasher } from '../domain/codes.js';
import { AppError } from '../errors.js';
import type { CaptchaStore } from '../stores/types.js';
import type { Captcha } from './captcha.js';

// svg-captcha's default export draws a given text; its typings only declare the random-text helpers.
const renderCaptcha = createRequire(import.meta.url)('svg-captcha') as (text: string, options: object) => string;

/**
 * Letters and digits that cannot be mistaken for each other (no 0/O/o, 1/l/I, 2/Z/z, 5/S/s), nor
 * letters whose two cases look alike (c, k, p, u, v, w, x, y): the answer ignores case, but a
 * person cannot know that from the picture.
 */
const ALPHABET = '346789abdefghjmnqrtABDEFGHJMNQRT';
export const CAPTCHA_TTL_SECONDS = 300;

export interface ImageCaptchaOptions {
  store: CaptchaStore;
  hasher: Hasher;
  now: () => number;
  /** Picks the answer text; tests pass a fixed one because they cannot read the picture. */
  randomText?: () => string;
}

function randomCaptchaText(): string {
  let text = '';
  for (let i = 0; i < 4; i++) text += ALPHABET[randomInt(0, ALPHABET.length)];
  return text;
}

/** The built-in image captcha: four characters drawn as SVG paths with noise lines. */
export function imageCaptcha(options: ImageCaptchaOptions): Captcha {
  const randomText = options.randomText ?? randomCaptchaText;
  return {
    kind: 'image',
    async create() {
      const captchaId = randomUUID();
      const text = randomText();
      const svg = renderCaptcha(text, { width: 120, height: 44, fontSize: 50, noise: 2, color: true, background: '#f4f6fa' });
      const now = options.now();
      await options.store.put(captchaId, options.hasher.captchaAnswer(captchaId, text), now + CAPTCHA_TTL_SECONDS * 1000, now);
      return {
        captchaId,
        image: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
        expiresIn: CAPTCHA_TTL_SECONDS,
      };
    },
    async verify({ captchaId, captchaAnswer }) {
      if (!captchaId || !captchaAnswer) throw new AppError('captcha_required', { field: 'captchaAnswer' });
      const expected = await options.store.take(captchaId, options.now());
      if (!expected || !hashesEqual(expected, options.hasher.captchaAnswer(captchaId, captchaAnswer))) {
        throw new AppError('captcha_invalid', { field: 'captchaAnswer' });
      }
    },
  } satisfies Captcha;
}
