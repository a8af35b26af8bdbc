import { randomInt, randomUUID } from 'node:crypto';
import { hashesEqual, type Hasher } from '../domain/codes.js';
import { AppError } from '../errors.js';
import type { CaptchaStore } from '../stores/types.js';
import { CAPTCHA_ALPHABET, CAPTCHA_LENGTH } from './alphabet.js';
import type { Captcha, CaptchaAnswer } from './captcha.js';
import { drawCaptcha } from './captcha-image.js';

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
  for (let i = 0; i < CAPTCHA_LENGTH; i++) text += CAPTCHA_ALPHABET[randomInt(0, CAPTCHA_ALPHABET.length)];
  return text;
}

const ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ANSWER_SHAPE = new RegExp(`^[${CAPTCHA_ALPHABET}]{${CAPTCHA_LENGTH}}$`);

/**
 * captcha_required / captcha_invalid for an answer that cannot be right (missing, or not an id we
 * issue and four characters we draw), decided without a store: the cheapest refusal is the one a
 * flood meets (issue 10). Surrounding spaces and case do not matter, as for the right answer.
 */
export function refuseMalformedImageAnswer({ captchaId, captchaAnswer }: CaptchaAnswer): void {
  if (!captchaId || !captchaAnswer) throw new AppError('captcha_required', { field: 'captchaAnswer' });
  if (!ID_SHAPE.test(captchaId) || !ANSWER_SHAPE.test(captchaAnswer.trim().toUpperCase())) {
    throw new AppError('captcha_invalid', { field: 'captchaAnswer' });
  }
}

/** The built-in image captcha: four characters drawn into a PNG (src/captcha/captcha-image.ts). */
export function imageCaptcha(options: ImageCaptchaOptions): Captcha {
  const randomText = options.randomText ?? randomCaptchaText;
  return {
    kind: 'image',
    async create() {
      const captchaId = randomUUID();
      const text = randomText();
      const png = drawCaptcha(text.toUpperCase());
      const now = options.now();
      await options.store.put(captchaId, options.hasher.captchaAnswer(captchaId, text), now + CAPTCHA_TTL_SECONDS * 1000, now);
      return { captchaId, image: `data:image/png;base64,${png.toString('base64')}`, expiresIn: CAPTCHA_TTL_SECONDS };
    },
    precheck: refuseMalformedImageAnswer,
    async verify(answer) {
      refuseMalformedImageAnswer(answer);
      const expected = await options.store.take(answer.captchaId!, options.now());
      if (!expected || !hashesEqual(expected, options.hasher.captchaAnswer(answer.captchaId!, answer.captchaAnswer!))) {
        throw new AppError('captcha_invalid', { field: 'captchaAnswer' });
      }
    },
  } satisfies Captcha;
}
