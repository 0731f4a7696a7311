// Spoken forms of numeric expressions: integers in context, currency, times,
// dates, fractions. Inputs are the digit strings the tokenizer captured.
import { own } from './own.js';
import { cardinal, decimal, digitByDigit, ordinal, pluralize, year } from './numbers.js';

export const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september',
  'october', 'november', 'december',
];

/**
 * An integer as written: thousands separators → cardinal; a leading zero →
 * digit by digit ("007"); four digits from 1100 to 2099 → a year, as a bare
 * four-digit number in running text almost always is.
 */
export function integer(written: string): string[] {
  if (written.includes(',')) return cardinal(written.replace(/,/g, ''));
  if (written.length > 1 && written.startsWith('0')) return digitByDigit(written);
  const n = Number(written);
  if (written.length === 4 && n >= 1100 && n <= 2099) return year(written);
  return cardinal(written);
}

/** A number with an optional fraction, never read as a year ("1500.5", "2,000"). */
export function quantity(intPart: string, fraction: string | undefined): string[] {
  const whole = intPart.replace(/,/g, '');
  return fraction ? decimal(whole, fraction) : cardinal(whole === '' ? '0' : whole);
}

interface Currency {
  one: string;
  many: string;
  minorOne?: string;
  minorMany?: string;
}

export const CURRENCIES: Readonly<Record<string, Currency>> = {
  $: { one: 'dollar', many: 'dollars', minorOne: 'cent', minorMany: 'cents' },
  '€': { one: 'euro', many: 'euros', minorOne: 'cent', minorMany: 'cents' },
  '£': { one: 'pound', many: 'pounds', minorOne: 'penny', minorMany: 'pence' },
  '¥': { one: 'yen', many: 'yen' },
};

const MAGNITUDES: Readonly<Record<string, string>> = {
  k: 'thousand', thousand: 'thousand', m: 'million', million: 'million', mn: 'million',
  b: 'billion', bn: 'billion', billion: 'billion', trillion: 'trillion', tn: 'trillion',
};

/**
 * "$3.50" → three dollars fifty cents; "$1.5 million" → one point five million
 * dollars; "$0.99" → ninety nine cents; "£1" → one pound.
 */
export function money(symbol: string, intPart: string, fraction: string | undefined, magnitude?: string): string[] {
  const currency = CURRENCIES[symbol]!;
  const whole = intPart.replace(/,/g, '') || '0';
  if (magnitude) {
    return [...quantity(whole, fraction), MAGNITUDES[magnitude.toLowerCase()]!, currency.many];
  }
  const hasMinor = fraction !== undefined && fraction.length <= 2 && currency.minorMany !== undefined;
  if (fraction !== undefined && !hasMinor) return [...decimal(whole, fraction), currency.many];
  const units = Number(whole);
  const major = units === 0 && hasMinor ? [] : [...cardinal(whole), whole === '1' ? currency.one : currency.many];
  if (!hasMinor) return major;
  const minor = Number(fraction!.padEnd(2, '0'));
  if (minor === 0) return major.length > 0 ? major : ['zero', currency.many];
  const minorWords = [...cardinal(String(minor)), minor === 1 ? currency.minorOne! : currency.minorMany!];
  return [...major, ...minorWords];
}

/** "3:45" → three forty five; "3:05" → three oh five; "3:00" → three o'clock (no am/pm). */
export function clock(hours: string, minutes: string, seconds: string | undefined, hasPeriod: boolean): string[] {
  const h = cardinal(hours);
  const m = Number(minutes);
  let spoken: string[];
  if (m === 0) spoken = hasPeriod ? h : [...h, "o'clock"];
  else if (m < 10) spoken = [...h, 'oh', ...cardinal(minutes)];
  else spoken = [...h, ...cardinal(minutes)];
  if (seconds !== undefined && Number(seconds) > 0) {
    spoken.push('and', ...cardinal(seconds), Number(seconds) === 1 ? 'second' : 'seconds');
  }
  return spoken;
}

/** Month/day/year with the year optional: march fifth twenty twenty four. */
export function date(month: number, day: number, yearDigits?: string): string[] {
  const spoken = [MONTHS[month - 1]!, ...ordinal(String(day))];
  if (yearDigits === undefined) return spoken;
  return [...spoken, ...(yearDigits.length === 2 ? twoDigitYear(yearDigits) : year(yearDigits))];
}

function twoDigitYear(digits: string): string[] {
  const n = Number(digits);
  if (n === 0) return ['oh', 'oh'];
  return n < 10 ? ['oh', ...cardinal(digits)] : cardinal(digits);
}

export function isValidDate(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

const DENOMINATORS: Readonly<Record<string, [string, string]>> = {
  '2': ['half', 'halves'],
  '4': ['quarter', 'quarters'],
};

/** "1/2" → one half; "3/4" → three quarters; "2/3" → two thirds; "5/16" → five sixteenths. */
export function fraction(numerator: string, denominator: string): string[] {
  const top = cardinal(numerator);
  const plural = numerator !== '1';
  const named = own(DENOMINATORS, denominator);
  if (named) return [...top, plural ? named[1] : named[0]];
  if (Number(denominator) <= 1 || denominator.length > 2) return [...top, 'over', ...cardinal(denominator)];
  const bottom = ordinal(denominator);
  return [...top, ...(plural ? pluralize(bottom) : bottom)];
}

/** "1980s" → nineteen eighties; "'90s" → nineties; "1900s" → nineteen hundreds. */
export function decade(digits: string): string[] {
  return pluralize(digits.length === 4 ? year(digits) : cardinal(digits));
}

export { cardinal, digitByDigit, ordinal, year };
