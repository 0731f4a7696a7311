// English text front end: text → symbol IDs of the voice contract, with the
// span of each spoken word. Pure and deterministic.
import { spokenText, spokenTokens } from './spoken-form.js';
import { pronounce, spell } from './pronounce.js';
import { SYMBOL_IDS, SYMBOLS } from './symbols.js';

export interface WordSpan {
  /** The word as spoken (its spoken form, lower case: "twenty" for the 20 of "20 cats"). */
  word: string;
  /** Index into `ids` of the word's first phone. */
  start: number;
  /** Index into `ids` just past the word's last phone. */
  end: number;
}

export interface Phonemized {
  ids: number[];
  symbols: string[];
  words: WordSpan[];
}

function phonesOf(text: string, isSpelled: boolean): string[] {
  if (isSpelled) return spell(text);
  const phones = pronounce(text);
  // A word is never dropped: if no rule gave it a sound, its letters are spelled.
  return phones.length > 0 ? phones : spell(text);
}

export function phonemize(text: string): Phonemized {
  const symbols: string[] = [];
  const words: WordSpan[] = [];
  for (const token of spokenTokens(text)) {
    if (token.kind === 'punct') {
      symbols.push(token.mark);
      continue;
    }
    const phones = phonesOf(token.text, token.spell === true);
    if (phones.length === 0) continue;
    words.push({ word: token.text.toLowerCase(), start: symbols.length, end: symbols.length + phones.length });
    symbols.push(...phones);
  }
  return { ids: symbols.map((s) => SYMBOL_IDS.get(s)!), symbols, words };
}

/**
 * Where a change of emotion at character `at` lands in `text`: `at` itself at a word
 * boundary, otherwise the end of the word it falls in (its earlier characters keep
 * the mix before the change).
 */
export function wordEndAt(text: string, at: number): number {
  if (at <= 0) return 0;
  if (/\s/u.test(text[at - 1]!)) return at;
  const end = text.slice(at).search(/\s/u);
  return end < 0 ? text.length : at + end;
}

/** How many spoken words of `text` lie before character `at` (see wordEndAt). */
export function wordsBefore(text: string, at: number): number {
  const end = wordEndAt(text, at);
  return end === 0 ? 0 : phonemize(text.slice(0, end)).words.length;
}

export { spokenText, spokenTokens, SYMBOLS };
export type { Token } from './tokens.js';
