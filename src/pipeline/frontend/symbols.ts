// The symbol table shared with the Python recipe (models/recipe/CONTRACT.md).
// Order is part of the voice contract: never reorder, only a new format version may.

export const PAD = '_';

export const PUNCTUATION = [',', '.', '?', '!', ';', ':', '—'] as const;
export type Punctuation = (typeof PUNCTUATION)[number];

const VOWELS = new Set([
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW',
]);

const BASE_PHONES = [
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH',
  'IH', 'IY', 'JH', 'K', 'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH',
  'UH', 'UW', 'V', 'W', 'Y', 'Z', 'ZH',
] as const;

export const SYMBOLS: readonly string[] = Object.freeze([
  PAD,
  ...PUNCTUATION,
  ...BASE_PHONES.flatMap((p) => (VOWELS.has(p) ? [`${p}0`, `${p}1`, `${p}2`] : [p])),
]);

export const SYMBOL_IDS: ReadonlyMap<string, number> = new Map(SYMBOLS.map((s, i) => [s, i]));
