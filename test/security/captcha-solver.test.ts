import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CAPTCHA_ALPHABET, CAPTCHA_LENGTH } from '../../src/captcha/alphabet.js';
import { CAPTCHA_HEIGHT, CAPTCHA_WIDTH, drawCaptcha, fill, glyphBox } from '../../src/captcha/captcha-image.js';
import { GLYPH_FONTS } from '../../src/captcha/glyph-outlines.js';

/**
 * Issue 10: svg-captcha drew each character as its font outline nudged by 0.1 px, so the list of
 * drawing commands named the character: a short script solved 20 of 20. These are the attacks an
 * attacker who reads our code would write, with full knowledge of the generator's fonts.
 */

const randomText = () => Array.from({ length: CAPTCHA_LENGTH }, () => CAPTCHA_ALPHABET[Math.floor(Math.random() * CAPTCHA_ALPHABET.length)]).join('');

// ---- Attack 1: match the drawing commands of each glyph against the font's outlines. ----

interface OpenTypeFont {
  charToGlyph(ch: string): { getPath(x: number, y: number, size: number): { commands: { type: string }[] } };
}
const require = createRequire(import.meta.url);

/** The character each outline's command sequence (M, L, Q, C, Z…) belongs to, for a font. */
function outlineSignatures(font: OpenTypeFont, alphabet: string): Map<string, string> {
  const signatures = new Map<string, string>();
  for (const ch of alphabet) signatures.set(font.charToGlyph(ch).getPath(0, 0, 50).commands.map((c) => c.type).join(''), ch);
  return signatures;
}

/** Reads the answer off an image's filled paths, or undefined when the image has no drawing commands to read. */
function outlineSolver(dataUrl: string, signatures: Map<string, string>): string | undefined {
  const [meta = '', payload = ''] = dataUrl.split(',');
  if (!meta.startsWith('data:image/svg+xml')) return undefined;
  const svg = Buffer.from(payload, 'base64').toString('utf8');
  const glyphs: { x: number; ch: string }[] = [];
  for (const match of svg.matchAll(/<path([^>]*)\/>/g)) {
    const attrs = match[1]!;
    if (/fill="none"/.test(attrs)) continue;
    const d = /d="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const ch = signatures.get(d.replace(/[^MLQCZ]/g, ''));
    const x = Number(/M\s*([-\d.]+)/.exec(d)?.[1]);
    if (ch) glyphs.push({ x, ch });
  }
  return glyphs.sort((a, b) => a.x - b.x).map((g) => g.ch).join('');
}

// ---- Attack 2: template matching on the pixels, with templates drawn from the same outlines. ----

/** The PNGs drawCaptcha writes: 8-bit grayscale, filter 0 on every row. */
function decodeGray(png: Buffer): Uint8Array {
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const gray = new Uint8Array(CAPTCHA_WIDTH * CAPTCHA_HEIGHT);
  for (let y = 0; y < CAPTCHA_HEIGHT; y++) gray.set(raw.subarray(y * (CAPTCHA_WIDTH + 1) + 1, (y + 1) * (CAPTCHA_WIDTH + 1)), y * CAPTCHA_WIDTH);
  return gray;
}

/** Otsu's threshold, then a 2× downsample (a pixel is ink when two of its four are). */
function binarize(gray: Uint8Array): Uint8Array {
  const histogram = new Array<number>(256).fill(0);
  for (const v of gray) histogram[v]!++;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * histogram[i]!;
  let best = 0;
  let threshold = 128;
  let weightB = 0;
  let sumB = 0;
  for (let t = 0; t < 256; t++) {
    weightB += histogram[t]!;
    if (weightB === 0 || weightB === gray.length) continue;
    sumB += t * histogram[t]!;
    const mB = sumB / weightB;
    const mF = (sum - sumB) / (gray.length - weightB);
    const between = weightB * (gray.length - weightB) * (mB - mF) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  const w = CAPTCHA_WIDTH / 2;
  const h = CAPTCHA_HEIGHT / 2;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let ink = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) if (gray[(2 * y + dy) * CAPTCHA_WIDTH + 2 * x + dx]! <= threshold) ink++;
      out[y * w + x] = ink >= 2 ? 1 : 0;
    }
  }
  return out;
}

interface Template {
  ch: string;
  size: number;
  cells: Int16Array; // [dx, dy] pairs of ink cells relative to the centre, in the downsampled grid
  ink: number;
}

/** Every character of every font, at two sizes and three angles, drawn by the generator's own rasterizer. */
function buildTemplates(): Template[] {
  const templates: Template[] = [];
  for (const font of GLYPH_FONTS) {
    for (const ch of CAPTCHA_ALPHABET) {
      const glyph = font.glyphs[ch]!;
      const { cx, cy } = glyphBox(glyph);
      for (const size of [46, 52]) {
        for (const angle of [-0.25, 0, 0.25]) {
          const canvas = 80;
          const contours = glyph.contours.map((c) => {
            const out: number[] = [];
            for (let k = 0; k < c.length; k += 2) {
              const gx = (c[k]! - cx) * size;
              const gy = (c[k + 1]! - cy) * size;
              out.push(canvas / 2 + gx * Math.cos(angle) - gy * Math.sin(angle), canvas / 2 + gx * Math.sin(angle) + gy * Math.cos(angle));
            }
            return out;
          });
          const cover = fill(contours, canvas, canvas);
          const cells: number[] = [];
          for (let y = 0; y < canvas; y += 2) {
            for (let x = 0; x < canvas; x += 2) {
              const c = cover[y * canvas + x]! + cover[y * canvas + x + 1]! + cover[(y + 1) * canvas + x]! + cover[(y + 1) * canvas + x + 1]!;
              if (c >= 2) cells.push((x - canvas / 2) / 2, (y - canvas / 2) / 2);
            }
          }
          templates.push({ ch, size, cells: Int16Array.from(cells), ink: cells.length / 2 });
        }
      }
    }
  }
  return templates;
}

/** For each of the generator's four slots, the template and placement with the best Dice overlap. */
function templateSolver(png: Buffer, templates: Template[]): string {
  const bits = binarize(decodeGray(png));
  const w = CAPTCHA_WIDTH / 2;
  const h = CAPTCHA_HEIGHT / 2;
  const slot = (CAPTCHA_WIDTH - 24) / CAPTCHA_LENGTH;
  let answer = '';
  for (let i = 0; i < CAPTCHA_LENGTH; i++) {
    // Align on the ink's centre of mass inside the slot, then search around it.
    const left = Math.floor((12 + slot * i) / 2);
    const right = Math.ceil((12 + slot * (i + 1)) / 2);
    let mass = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < h; y++) {
      for (let x = left; x < right; x++) {
        if (!bits[y * w + x]) continue;
        mass++;
        sx += x;
        sy += y;
      }
    }
    const cx = mass ? Math.round(sx / mass) : Math.round((left + right) / 2);
    const cy = mass ? Math.round(sy / mass) : h / 2;
    let best = { score: -Infinity, ch: '?' };
    for (let oy = -1; oy <= 1; oy++) {
      for (let ox = -1; ox <= 1; ox++) {
        const px = cx + ox;
        const py = cy + oy;
        for (const t of templates) {
          let overlap = 0;
          for (let k = 0; k < t.cells.length; k += 2) {
            const x = px + t.cells[k]!;
            const y = py + t.cells[k + 1]!;
            if (x >= 0 && x < w && y >= 0 && y < h && bits[y * w + x]) overlap++;
          }
          // Share of the template covered by ink, less the template ink left uncovered.
          const score = overlap / t.ink - 0.5 * (1 - overlap / t.ink);
          if (score > best.score) best = { score, ch: t.ch };
        }
      }
    }
    answer += best.ch;
  }
  return answer;
}

describe('the image captcha against solvers that know its fonts (issue 10)', () => {
  const IMAGES = 200;

  it('the outline-matching solver reads svg-captcha, the generator we had, almost every time', () => {
    const renderSvg = require('svg-captcha') as (text: string, options: object) => string;
    const font = (require('opentype.js') as { loadSync(path: string): OpenTypeFont }).loadSync(require.resolve('svg-captcha/fonts/Comismsh.ttf'));
    const oldAlphabet = '346789abcdefghjkmnpqrtuvwxyABCDEFGHJKMNPQRTUVWXY';
    const signatures = outlineSignatures(font, oldAlphabet);
    let solved = 0;
    for (let i = 0; i < 50; i++) {
      const text = Array.from({ length: 4 }, () => oldAlphabet[Math.floor(Math.random() * oldAlphabet.length)]).join('');
      const svg = renderSvg(text, { width: 120, height: 44, fontSize: 50, noise: 2, color: true, background: '#f4f6fa' });
      if (outlineSolver(`data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`, signatures) === text) solved++;
    }
    // Glyphs whose outlines share a command sequence are the only misses.
    expect(solved).toBeGreaterThanOrEqual(40);
  });

  it(`the outline-matching solver reads none of ${IMAGES} of ours: they are pixels, with no drawing commands`, () => {
    const signatures = new Map<string, string>();
    let solved = 0;
    for (let i = 0; i < IMAGES; i++) {
      const text = randomText();
      const image = `data:image/png;base64,${drawCaptcha(text).toString('base64')}`;
      if (outlineSolver(image, signatures) === text) solved++;
    }
    expect(solved).toBe(0);
  });

  it(`a template-matching solver with the generator's own fonts and rasterizer solves under 10% of ${IMAGES}`, { timeout: 120_000 }, () => {
    const templates = buildTemplates();
    let solved = 0;
    let characters = 0;
    for (let i = 0; i < IMAGES; i++) {
      const text = randomText();
      const guess = templateSolver(drawCaptcha(text), templates);
      if (guess === text) solved++;
      for (let k = 0; k < text.length; k++) if (guess[k] === text[k]) characters++;
    }
    console.info(`[captcha-solver] template matching: ${solved}/${IMAGES} images, ${((100 * characters) / (IMAGES * CAPTCHA_LENGTH)).toFixed(1)}% of characters`);
    expect(solved).toBeLessThan(IMAGES / 10);
  });
});
