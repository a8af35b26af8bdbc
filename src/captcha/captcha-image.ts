import { randomBytes } from 'node:crypto';
import { GLYPH_FONTS } from './glyph-outlines.js';
import type { Glyph } from './glyphs.js';
import { encodeGrayPng } from './png.js';

/**
 * The image captcha's picture: a grayscale PNG, drawn here from glyph outlines with its own
 * rasterizer, so the image holds pixels and no drawing commands. svg-captcha drew each character
 * as its font outline nudged by 0.1 px, and a short script read the answer off the path data
 * (issue 10: 20 of 20). Here every image is drawn with its own font per character, size,
 * rotation, shear and a wave warp of every point, crossed by strokes of ink as thick as the
 * letters and by cuts of background, over speckles and pixel noise: a template of a character
 * taken from the font matches no two images alike (test/security/captcha-solver.test.ts measures
 * it). A model trained on many labelled images still reads it: docs/security.md says so.
 */
export const CAPTCHA_WIDTH = 200;
export const CAPTCHA_HEIGHT = 64;

/** Vertical samples per pixel row; with exact horizontal coverage that is enough anti-aliasing for 64 px. */
const SUBSAMPLES = 4;

type Random = () => number;

/**
 * xorshift128 seeded from the CSPRNG for each image: hundreds of thousands of draws per picture
 * would cost more from crypto. The seed is fresh and secret, so the noise cannot be predicted.
 */
function seededRandom(): Random {
  const seed = randomBytes(16);
  let a = seed.readUInt32LE(0) | 1;
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12) | 1;
  return () => {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return d / 4294967296;
  };
}

const between = (random: Random, low: number, high: number) => low + (high - low) * random();

/**
 * Fills polygons (flat [x0, y0, x1, y1, …] contours in pixels) with the nonzero rule into a
 * coverage map of 0..1 per pixel: SUBSAMPLES scanlines per row, exact coverage along each span.
 * Exported for the solver test, which draws its templates with it.
 */
export function fill(contours: readonly number[][], width: number, height: number): Float32Array {
  const cover = new Float32Array(width * height);
  const edges: number[] = []; // x at top, y top, y bottom, dx/dy, direction
  for (const points of contours) {
    const n = points.length / 2;
    for (let i = 0; i < n; i++) {
      const x0 = points[2 * i]!;
      const y0 = points[2 * i + 1]!;
      const j = (i + 1) % n;
      const x1 = points[2 * j]!;
      const y1 = points[2 * j + 1]!;
      if (y0 === y1) continue;
      if (y0 < y1) edges.push(x0, y0, y1, (x1 - x0) / (y1 - y0), 1);
      else edges.push(x1, y1, y0, (x0 - x1) / (y0 - y1), -1);
    }
  }
  const edgeCount = edges.length / 5;
  // Edges sorted by their top, so each scanline looks only at edges that started above it.
  const order = Array.from({ length: edgeCount }, (_, i) => i).sort((p, q) => edges[5 * p + 1]! - edges[5 * q + 1]!);
  const active: number[] = [];
  let next = 0;
  const xs = new Float64Array(edgeCount);
  const dirs = new Int8Array(edgeCount);
  const weight = 1 / SUBSAMPLES;
  for (let row = 0; row < height; row++) {
    const base = row * width;
    for (let s = 0; s < SUBSAMPLES; s++) {
      const y = row + (s + 0.5) / SUBSAMPLES;
      while (next < edgeCount && edges[5 * order[next]! + 1]! <= y) active.push(order[next++]!);
      let count = 0;
      for (let k = active.length - 1; k >= 0; k--) {
        const e = 5 * active[k]!;
        if (edges[e + 2]! <= y) {
          active[k] = active[active.length - 1]!;
          active.pop();
          continue;
        }
        const x = edges[e]! + (y - edges[e + 1]!) * edges[e + 3]!;
        const dir = edges[e + 4]!;
        // Insertion sort in place: a scanline crosses a few dozen edges.
        let at = count++;
        while (at > 0 && xs[at - 1]! > x) {
          xs[at] = xs[at - 1]!;
          dirs[at] = dirs[at - 1]!;
          at--;
        }
        xs[at] = x;
        dirs[at] = dir;
      }
      let winding = 0;
      for (let k = 0; k < count - 1; k++) {
        winding += dirs[k]!;
        if (winding === 0) continue;
        const from = Math.max(0, xs[k]!);
        const to = Math.min(width, xs[k + 1]!);
        if (to <= from) continue;
        const first = Math.floor(from);
        const last = Math.min(width - 1, Math.floor(to));
        if (first === last) {
          cover[base + first]! += (to - from) * weight;
          continue;
        }
        cover[base + first]! += (first + 1 - from) * weight;
        for (let x = first + 1; x < last; x++) cover[base + x]! += weight;
        if (last < width) cover[base + last]! += (to - last) * weight;
      }
    }
  }
  return cover;
}

/** Cuts long segments so that the warp bends them instead of moving their ends only. */
function subdivide(points: readonly number[], maxLength: number): number[] {
  const out: number[] = [];
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    const x0 = points[2 * i]!;
    const y0 = points[2 * i + 1]!;
    const j = (i + 1) % n;
    const dx = points[2 * j]! - x0;
    const dy = points[2 * j + 1]! - y0;
    const pieces = Math.max(1, Math.ceil(Math.hypot(dx, dy) / maxLength));
    for (let p = 0; p < pieces; p++) out.push(x0 + (dx * p) / pieces, y0 + (dy * p) / pieces);
  }
  return out;
}

export function glyphBox(glyph: Glyph): { cx: number; cy: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const c of glyph.contours) {
    for (let i = 0; i < c.length; i += 2) {
      minX = Math.min(minX, c[i]!);
      maxX = Math.max(maxX, c[i]!);
      minY = Math.min(minY, c[i + 1]!);
      maxY = Math.max(maxY, c[i + 1]!);
    }
  }
  return { cx: (minX + maxX) / 2, cy: (minY + maxY) / 2 };
}

/** A band of `thickness` px along a cubic curve, as one polygon. */
function stroke(random: Random, from: [number, number], to: [number, number], thickness: number, bend: number): number[] {
  const c1: [number, number] = [from[0] + (to[0] - from[0]) / 3, from[1] + between(random, -bend, bend)];
  const c2: [number, number] = [from[0] + ((to[0] - from[0]) * 2) / 3, to[1] + between(random, -bend, bend)];
  const steps = 24;
  const centre: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    centre.push(
      u * u * u * from[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t * t * t * to[0],
      u * u * u * from[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t * t * t * to[1],
    );
  }
  const left: number[] = [];
  const right: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(steps, i + 1);
    const dx = centre[2 * b]! - centre[2 * a]!;
    const dy = centre[2 * b + 1]! - centre[2 * a + 1]!;
    const length = Math.hypot(dx, dy) || 1;
    // Tapered ends, and a width that wanders, so the band has no constant signature either.
    const half = (thickness / 2) * Math.min(1, (Math.min(i, steps - i) + 1) / 3) * between(random, 0.8, 1.2);
    const nx = (-dy / length) * half;
    const ny = (dx / length) * half;
    left.push(centre[2 * i]! + nx, centre[2 * i + 1]! + ny);
    right.unshift(centre[2 * i]! - nx, centre[2 * i + 1]! - ny);
  }
  return [...left, ...right];
}

function dot(x: number, y: number, radius: number): number[] {
  const points: number[] = [];
  for (let i = 0; i < 8; i++) points.push(x + radius * Math.cos((i * Math.PI) / 4), y + radius * Math.sin((i * Math.PI) / 4));
  return points;
}

/** Draws `text` (characters of CAPTCHA_ALPHABET) as a PNG, different every time. */
export function drawCaptcha(text: string): Buffer {
  const random = seededRandom();
  const width = CAPTCHA_WIDTH;
  const height = CAPTCHA_HEIGHT;

  // One wave warp for the whole picture, applied to every point of every character.
  const wave = {
    ax: between(random, 1.5, 3),
    fx: between(random, 0.08, 0.16),
    px: between(random, 0, 2 * Math.PI),
    ay: between(random, 2, 4),
    fy: between(random, 0.03, 0.07),
    py: between(random, 0, 2 * Math.PI),
  };

  const ink: number[][] = [];
  const slot = (width - 24) / text.length;
  for (let i = 0; i < text.length; i++) {
    const font = GLYPH_FONTS[Math.floor(random() * GLYPH_FONTS.length)]!;
    const glyph = font.glyphs[text[i]!];
    if (!glyph) throw new Error(`no outline for ${JSON.stringify(text[i])}`);
    const size = between(random, 44, 54);
    const angle = between(random, -0.38, 0.38);
    const shear = between(random, -0.3, 0.3);
    // Wide letters (M, W) are kept inside their slot: overlapping neighbours are what people misread.
    const stretch = Math.min(between(random, 0.85, 1.2), (slot + 2) / (size * glyph.advance));
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const { cx, cy } = glyphBox(glyph);
    const x0 = 12 + slot * (i + 0.5) + between(random, -5, 5);
    const y0 = height / 2 + between(random, -5, 5);
    // And a wobble of its own per character, so no two copies of a letter have the same edges.
    const wobble = { a: between(random, 1, 2), f: between(random, 0.18, 0.3), p: between(random, 0, 2 * Math.PI) };
    for (const contour of glyph.contours) {
      const placed: number[] = [];
      for (let k = 0; k < contour.length; k += 2) {
        const gx = (contour[k]! - cx) * size * stretch;
        const gy = (contour[k + 1]! - cy) * size;
        const sx = gx + shear * gy;
        placed.push(x0 + sx * cos - gy * sin, y0 + sx * sin + gy * cos);
      }
      const fine = subdivide(placed, 2);
      for (let k = 0; k < fine.length; k += 2) {
        const x = fine[k]!;
        const y = fine[k + 1]!;
        fine[k] = x + wave.ax * Math.sin(y * wave.fx + wave.px) + wobble.a * Math.sin(y * wobble.f + wobble.p);
        fine[k + 1] = y + wave.ay * Math.sin(x * wave.fy + wave.py) + wobble.a * Math.cos(x * wobble.f + wobble.p);
      }
      ink.push(fine);
    }
  }

  // Strokes as thick as a letter's stem, across the letters: a template cannot tell stroke from letter.
  ink.push(stroke(random, [between(random, -5, 20), between(random, 12, 52)], [between(random, 180, 205), between(random, 12, 52)], between(random, 3.5, 5.5), 26));
  ink.push(stroke(random, [between(random, 20, 90), between(random, 0, 64)], [between(random, 110, 180), between(random, 0, 64)], between(random, 2.5, 4), 20));
  for (let i = 0; i < 40; i++) ink.push(dot(random() * width, random() * height, between(random, 0.6, 1.6)));
  // Cuts of background through the letters, so no character keeps its whole outline.
  const cuts = [
    stroke(random, [between(random, -5, 30), between(random, 10, 54)], [between(random, 170, 205), between(random, 10, 54)], between(random, 1.6, 2.4), 24),
    stroke(random, [between(random, 30, 100), between(random, 0, 64)], [between(random, 100, 170), between(random, 0, 64)], between(random, 1.4, 2), 20),
  ];

  const inkCover = fill(ink, width, height);
  const cutCover = fill(cuts, width, height);
  const paper = between(random, 225, 245);
  const tone = between(random, 25, 70);
  const gradient = between(random, -20, 20);
  const gray = new Uint8Array(width * height);
  let bits = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const background = paper + (gradient * x) / width;
      const inked = inkCover[i]!;
      const cut = cutCover[i]!;
      const coverage = (inked < 1 ? inked : 1) * (1 - 0.85 * (cut < 1 ? cut : 1));
      // One draw gives the noise of four pixels (8 bits each).
      if ((i & 3) === 0) bits = (random() * 4294967296) >>> 0;
      const noise = ((bits >>> ((i & 3) * 8)) & 0xff) * (44 / 255) - 22;
      const value = background - coverage * (background - tone) + noise;
      gray[i] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
  return encodeGrayPng(gray, width, height);
}
