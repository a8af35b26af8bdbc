/** A character's outline: contours as flat [x0, y0, x1, y1, …] lists in em units (y down, baseline at 0). */
export interface Glyph {
  readonly advance: number;
  readonly contours: readonly (readonly number[])[];
}

export interface GlyphFont {
  readonly name: string;
  readonly glyphs: Readonly<Record<string, Glyph>>;
}
