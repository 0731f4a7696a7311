// CMUdict lookups. The package lists alternative pronunciations as
// "word(2)", "word(3)"; the unnumbered entry is CMUdict's most common reading,
// which we take, except where a later one is the usual US reading.
import { dictionary } from 'cmu-pronouncing-dictionary';
import { own } from './own.js';

const PREFERRED: Readonly<Record<string, string>> = {
  zero: 'Z IY1 R OW0',
  zeroes: 'Z IY1 R OW0 Z',
  zeros: 'Z IY1 R OW0 Z',
};

/** ARPAbet phones with stress for a lowercase word, or undefined when CMUdict lacks it. */
export function lookup(word: string): string[] | undefined {
  const entry = own(PREFERRED, word) ?? own(dictionary, word);
  // A few entries carry a comment ("AO1 L B AO0 R G # place, danish").
  return entry?.replace(/\s*#.*$/, '').split(' ');
}

export function inLexicon(word: string): boolean {
  return Object.hasOwn(PREFERRED, word) || Object.hasOwn(dictionary, word);
}

/** The name of a letter as spoken when spelling ("b" → B IY1). */
export function letterName(letter: string): string[] {
  return lookup(`${letter.toLowerCase()}.`) ?? [];
}
