// The folders are the architecture (docs/architecture.md): what is under src is
// the product, and it never reaches back into clients, bench or test; the
// protocol is the module both sides share, so it stands on nothing of either.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every relative module a file imports (static, dynamic or re-exported), as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative('.', resolve(dirname(file), s)));
}

const edges = sourcesUnder('src').flatMap((file) => importsOf(file).map((target) => ({ file, target })));

describe('source layout', () => {
  it('finds the imports it checks', () => {
    expect(edges.some((e) => e.file === join('src', 'cli', 'main.ts') && e.target === join('src', 'cli', 'serve.js'))).toBe(true);
  });

  it('keeps src free of imports from clients, bench and test', () => {
    expect(edges.filter((e) => /^(clients|bench|test)\//.test(e.target))).toEqual([]);
  });

  it('keeps the protocol standing on itself alone', () => {
    expect(edges.filter((e) => e.file.startsWith(join('src', 'protocol')) && !e.target.startsWith(join('src', 'protocol')))).toEqual([]);
  });
});
