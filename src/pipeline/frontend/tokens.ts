import type { Punctuation } from './symbols.js';

/**
 * A spoken word or a pause mark. `text` keeps the input's case for words taken
 * from the text (the pronouncer splits camel case on it); `spell` marks words
 * read letter by letter (acronyms, "a m").
 */
export type Token =
  | { kind: 'word'; text: string; spell?: boolean }
  | { kind: 'punct'; mark: Punctuation };

export const word = (text: string): Token => ({ kind: 'word', text });
export const spelled = (text: string): Token => ({ kind: 'word', text, spell: true });
export const mark = (m: Punctuation): Token => ({ kind: 'punct', mark: m });
export const words = (list: readonly string[]): Token[] => list.map(word);
