import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOMAIN = join(ROOT, 'src', 'domain');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every module specifier of a file: static imports and re-exports, side-effect imports, dynamic and type imports. */
export function specifiersOf(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]!));
}

/**
 * The dependency rule: the domain declares its ports and imports nothing of the project outside
 * src/domain (packages and node: built-ins are fine). Adapters import the domain, never the reverse.
 */
describe('architecture', () => {
  it('src/domain imports nothing of the project outside src/domain', () => {
    const violations = sourceFiles(DOMAIN).flatMap((file) =>
      specifiersOf(readFileSync(file, 'utf8'))
        .filter((spec) => spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('src/'))
        .filter((spec) => relative(DOMAIN, resolve(dirname(file), spec)).startsWith('..') || spec.startsWith('/') || spec.startsWith('src/'))
        .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
    );
    expect(violations).toEqual([]);
  });

  it('the import scan sees every form of import', () => {
    const found = specifiersOf(
      `import a from '../a.js';\nimport type { B } from "../b.js";\nexport { c } from '../c.js';\nimport '../d.js';\nconst e = await import('../e.js');\nimport {\n  f,\n} from '../f.js';`,
    );
    expect(found.sort()).toEqual(['../a.js', '../b.js', '../c.js', '../d.js', '../e.js', '../f.js']);
  });
});
