// Roman numerals, for regnal and chapter numbers ("Henry VIII", "World War II").
const VALUES: Readonly<Record<string, number>> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };
const WELL_FORMED = /^M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$/;

/** The value of a well-formed upper-case Roman numeral, or undefined. */
export function romanValue(text: string): number | undefined {
  if (text === '' || !WELL_FORMED.test(text)) return undefined;
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const v = VALUES[text[i]!]!;
    const next = VALUES[text[i + 1] ?? ''] ?? 0;
    total += v < next ? -v : v;
  }
  return total;
}
