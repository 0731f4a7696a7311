// Number words for US English. Written here rather than taken from a package
// (number-to-words, to-words): those return display strings with hyphens,
// commas and capitals, stop at 2^53, and have no year or digit readings, so
// the result would need as much code to undo as this takes to write.

import { own } from './own.js';

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = [
  '', 'thousand', 'million', 'billion', 'trillion', 'quadrillion', 'quintillion', 'sextillion',
  'septillion', 'octillion', 'nonillion', 'decillion',
];

/** Longest digit string read as one cardinal; longer ones are read digit by digit. */
const MAX_CARDINAL_DIGITS = SCALES.length * 3;

function underHundred(n: number): string[] {
  if (n < 20) return [ONES[n]!];
  const tens = TENS[Math.floor(n / 10)]!;
  return n % 10 === 0 ? [tens] : [tens, ONES[n % 10]!];
}

function underThousand(n: number): string[] {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const words = hundreds > 0 ? [ONES[hundreds]!, 'hundred'] : [];
  return rest > 0 || hundreds === 0 ? [...words, ...underHundred(rest)] : words;
}

/** Cardinal reading of a string of decimal digits ("1234" → one thousand two hundred thirty four). */
export function cardinal(digits: string): string[] {
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > MAX_CARDINAL_DIGITS) return digitByDigit(trimmed);
  if (trimmed === '0') return ['zero'];
  const groups: number[] = [];
  for (let end = trimmed.length; end > 0; end -= 3) {
    groups.unshift(Number(trimmed.slice(Math.max(0, end - 3), end)));
  }
  const words: string[] = [];
  groups.forEach((group, i) => {
    if (group === 0) return;
    const scale = SCALES[groups.length - 1 - i]!;
    words.push(...underThousand(group));
    if (scale) words.push(scale);
  });
  return words;
}

export function digitByDigit(digits: string): string[] {
  return [...digits].map((d) => ONES[Number(d)]!);
}

const IRREGULAR_ORDINALS: Record<string, string> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth',
  twelve: 'twelfth',
};

function ordinalWord(word: string): string {
  const irregular = own(IRREGULAR_ORDINALS, word);
  if (irregular) return irregular;
  if (word.endsWith('y')) return `${word.slice(0, -1)}ieth`;
  return `${word}th`;
}

/** Replaces the last word of a reading by its ordinal form (twenty two → twenty second). */
function ordinalize(words: readonly string[]): string[] {
  if (words.length === 0) return [];
  return [...words.slice(0, -1), ordinalWord(words[words.length - 1]!)];
}

export function ordinal(digits: string): string[] {
  return ordinalize(cardinal(digits));
}

/** Plural of a number reading, as in decades ("nineteen eighties") or fractions ("three fifths"). */
export function pluralize(words: readonly string[]): string[] {
  if (words.length === 0) return [];
  const last = words[words.length - 1]!;
  const plural = last.endsWith('y') ? `${last.slice(0, -1)}ies` : last.endsWith('x') ? `${last}es` : `${last}s`;
  return [...words.slice(0, -1), plural];
}

/**
 * Year reading for 1000–2099 given as four digits: 1984 → nineteen eighty four,
 * 1905 → nineteen oh five, 1900 → nineteen hundred, 2005 → two thousand five,
 * 2010 → twenty ten. Other values get the cardinal reading.
 */
export function year(digits: string): string[] {
  const n = Number(digits);
  if (!/^\d{4}$/.test(digits) || n < 1000 || n > 2099) return cardinal(digits);
  const high = Math.floor(n / 100);
  const low = n % 100;
  if (n >= 2000 && n < 2010) return cardinal(digits);
  if (n % 1000 === 0) return cardinal(digits);
  if (low === 0) return [...underHundred(high), 'hundred'];
  if (low < 10) return [...underHundred(high), 'oh', ONES[low]!];
  return [...underHundred(high), ...underHundred(low)];
}

/** "3" + "14" → three point one four; the fraction is read digit by digit. */
export function decimal(intDigits: string, fractionDigits: string): string[] {
  const whole = intDigits === '' ? [] : cardinal(intDigits);
  return [...whole, 'point', ...digitByDigit(fractionDigits)];
}
