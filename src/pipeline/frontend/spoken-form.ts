// Text → its spoken form: the words as read aloud ("20" → "twenty") and pause
// marks. A scanner tries, at each position, the readers below in order (the
// first that accepts wins), so longer constructs (URLs, money, dates, times) are
// claimed before their parts (words, numbers).
import {
  ABBREVIATIONS, ALWAYS_SPELLED, DOTTED, PLACE_READINGS, SENTENCE_FINAL, TITLES, UNDOTTED_ABBREVIATIONS,
  UNDOTTED_TITLES,
} from './abbreviations.js';
import { cleanText } from './clean-text.js';
import { inLexicon } from './lexicon.js';
import { own } from './own.js';
import {
  MONTHS, cardinal, clock, date, decade, digitByDigit, fraction, integer, isValidDate, money,
  ordinal, quantity, year,
} from './readings.js';
import type { Punctuation } from './symbols.js';
import { romanValue } from './roman.js';
import { mark, spelled, word, words, type Token } from './tokens.js';

/** Words longer than this are read in chunks of CHUNK_LETTERS (each its own word). */
const MAX_WORD_LETTERS = 45;
const CHUNK_LETTERS = 20;

interface Scan {
  readonly text: string;
  /** Whether the text has lower-case letters: all-caps text is shouting, not acronyms. */
  readonly mixedCase: boolean;
  readonly out: Token[];
}

/** A reader looks at `text` from `pos`; it returns the end of what it consumed, or -1 to decline. */
type Reader = (scan: Scan, pos: number) => number;

function sticky(source: RegExp): (text: string, pos: number) => RegExpExecArray | null {
  const re = new RegExp(source.source, `${source.flags.replace('g', '')}y`);
  return (text, pos) => {
    re.lastIndex = pos;
    return re.exec(text);
  };
}

const isLetter = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c);
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);

/** After a consumed full stop: does a new sentence start (end of text, or a capital next)? */
function endsSentence(text: string, pos: number): boolean {
  const rest = /^\s*(\S)?/.exec(text.slice(pos, pos + 64))!;
  return rest[1] === undefined || (/\s/.test(text[pos] ?? '') && /[A-Z"(]/.test(rest[1]));
}

function emitWords(scan: Scan, list: readonly string[]): void {
  scan.out.push(...words(list));
}

// ── web addresses ───────────────────────────────────────────────────────────

const TLDS = 'com|org|net|edu|gov|mil|int|io|co|uk|us|ca|au|de|fr|es|it|nl|eu|ai|dev|app|info|biz|me|tv|ly|gg|fm|xyz';
const url = sticky(/(?:https?:\/\/|www\.)[^\s"<>]+/i);
const email = sticky(/[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/);
// A bare domain needs a lower-case top-level domain, so that "it.It" (a missing space) stays two words.
const domain = sticky(new RegExp(`[A-Za-z0-9][A-Za-z0-9-]{0,62}(?:\\.[A-Za-z0-9-]{1,63}){0,8}\\.(?:${TLDS})(?![A-Za-z0-9-])(?:/[^\\s"<>]*)?`));

const URL_SYMBOLS: Readonly<Record<string, string>> = {
  '.': 'dot', '/': 'slash', '@': 'at', '-': 'dash', _: 'underscore', ':': 'colon', '?': 'question mark',
  '=': 'equals', '&': 'and', '#': 'hash', '~': 'tilde', '+': 'plus', '%': 'percent',
};

/** Reads an address piece by piece: "john.smith@example.com" → john dot smith at example dot com. */
function readAddress(scan: Scan, address: string): void {
  const body = address.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  for (const [piece] of body.matchAll(/[A-Za-z]+|\d+|[^A-Za-z\d]/g)) {
    if (/^\d/.test(piece)) emitWords(scan, cardinal(piece));
    else if (isLetter(piece[0])) readLetters(scan, piece);
    else emitWords(scan, own(URL_SYMBOLS, piece)?.split(' ') ?? []);
  }
}

/** Letters inside an address: a known word as such, "www" and other unknown short runs spelled. */
function readLetters(scan: Scan, letters: string): void {
  const lower = letters.toLowerCase();
  if (inLexicon(lower) && !ALWAYS_SPELLED.has(letters)) {
    scan.out.push(word(letters));
  } else if (letters.length <= 3 || !/[aeiouy]/i.test(letters)) scan.out.push(spelled(letters.toUpperCase()));
  else scan.out.push(word(letters));
}

// Trailing sentence punctuation belongs to the sentence, not to the address.
function trimAddress(text: string): string {
  return text.replace(/[.,;:!?)\]'"]+$/, '');
}

const readUrl: Reader = (scan, pos) => {
  const m = url(scan.text, pos) ?? domain(scan.text, pos);
  if (!m) return -1;
  const address = trimAddress(m[0]);
  readAddress(scan, address);
  return pos + address.length;
};

const readEmail: Reader = (scan, pos) => {
  const m = email(scan.text, pos);
  if (!m) return -1;
  const address = trimAddress(m[0]);
  readAddress(scan, address);
  return pos + address.length;
};

// ── numbers in context ──────────────────────────────────────────────────────

const INT = String.raw`(\d{1,3}(?:,\d{3})+(?!\d)|\d+)`;

const currency = sticky(new RegExp(String.raw`([$€£¥])\s?(?:${INT}(?:\.(\d+))?|\.(\d+))(?:\s?(thousand|million|billion|trillion|bn|mn|tn|k|m|b)(?![A-Za-z]))?`, 'i'));

const readMoney: Reader = (scan, pos) => {
  const m = currency(scan.text, pos);
  if (!m) return -1;
  const [all, symbol, intPart = '', frac, bareFrac, magnitude] = m;
  emitWords(scan, money(symbol!, intPart, frac ?? bareFrac, magnitude));
  return pos + all.length;
};

const AM_PM = String.raw`\s?([AaPp])\.?\s?[Mm](?![A-Za-z])(\.)?`;
const clockTime = sticky(new RegExp(String.raw`(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)(?:${AM_PM})?`));
// "3.30pm" (British): a full stop separates hours and minutes only before am/pm.
// Its empty group stands for the seconds, so that both patterns capture alike.
const dottedTime = sticky(new RegExp(String.raw`(\d{1,2})\.(\d{2})()${AM_PM}`));
const hourTime = sticky(new RegExp(String.raw`(\d{1,2})${AM_PM}`));

function emitPeriod(scan: Scan, letter: string | undefined, dotted: string | undefined, end: number): void {
  if (letter === undefined) return;
  scan.out.push(spelled(`${letter.toUpperCase()}M`));
  if (dotted && endsSentence(scan.text, end)) scan.out.push(mark('.'));
}

const readTime: Reader = (scan, pos) => {
  const c = clockTime(scan.text, pos) ?? dottedTime(scan.text, pos);
  if (c) {
    const [all, h, min, sec, letter, dot] = c;
    if (Number(h) > 24 || Number(min) > 59 || (sec !== undefined && Number(sec) > 59)) return -1;
    emitWords(scan, clock(h!, min!, sec, letter !== undefined));
    emitPeriod(scan, letter, dot, pos + all.length);
    return pos + all.length;
  }
  const t = hourTime(scan.text, pos);
  if (!t || Number(t[1]) < 1 || Number(t[1]) > 12) return -1;
  emitWords(scan, cardinal(t[1]!));
  emitPeriod(scan, t[2], t[3], pos + t[0].length);
  return pos + t[0].length;
};

const isoDate = sticky(/(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])/);
const slashDate = sticky(/(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})(?![\d/])/);

const readNumericDate: Reader = (scan, pos) => {
  const iso = isoDate(scan.text, pos);
  if (iso && isValidDate(Number(iso[2]), Number(iso[3]))) {
    emitWords(scan, date(Number(iso[2]), Number(iso[3]), iso[1]));
    return pos + iso[0].length;
  }
  // US order: month/day/year.
  const us = slashDate(scan.text, pos);
  if (us && isValidDate(Number(us[1]), Number(us[2]))) {
    emitWords(scan, date(Number(us[1]), Number(us[2]), us[3]));
    return pos + us[0].length;
  }
  return -1;
};

const phoneNumber = sticky(/(?:\+?1[-. ])?(?:(?:\((\d{3})\)\s?|(\d{3})[-.])(\d{3})[-.]|(\d{3})-)(\d{4})(?![\d-])/);

/** Telephone numbers, digit by digit in their groups: (555) 123-4567, 555-0192. */
const readPhoneNumber: Reader = (scan, pos) => {
  const m = phoneNumber(scan.text, pos);
  if (!m) return -1;
  const groups = [m[1] ?? m[2], m[3] ?? m[4], m[5]!].filter((g): g is string => g !== undefined);
  groups.forEach((g, i) => {
    emitWords(scan, digitByDigit(g));
    if (i < groups.length - 1) scan.out.push(mark(','));
  });
  return pos + m[0].length;
};

const fractionRe = sticky(/(\d{1,3})\/(\d{1,3})(?![\d/])/);

const readFraction: Reader = (scan, pos) => {
  const m = fractionRe(scan.text, pos);
  if (!m) return -1;
  if (m[1] === '24' && m[2] === '7') emitWords(scan, ['twenty', 'four', 'seven']);
  else emitWords(scan, fraction(m[1]!, m[2]!));
  return pos + m[0].length;
};

const range = sticky(/(\d{1,4})\s?[-–]\s?(\d{1,4})(?![\d,:/]|\.\d|\s?%)/);

const readRange: Reader = (scan, pos) => {
  const m = range(scan.text, pos);
  if (!m) return -1;
  emitWords(scan, [...integer(m[1]!), 'to', ...integer(m[2]!)]);
  return pos + m[0].length;
};

const ordinalRe = sticky(new RegExp(`${INT}(st|nd|rd|th)(?![A-Za-z])`, 'i'));

const MONTH_NAMES = [
  ...MONTHS.map((m) => m[0]!.toUpperCase() + m.slice(1)),
  'Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sept', 'Sep', 'Oct', 'Nov', 'Dec',
];
const dayMonth = sticky(new RegExp(String.raw`(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(${MONTH_NAMES.join('|')})\.?(?![A-Za-z])(?:,?\s+(\d{4})(?!\d))?`));

/** "5 March 2024", "the 5th of March" → the fifth of march twenty twenty four. */
const readDayMonth: Reader = (scan, pos) => {
  const m = dayMonth(scan.text, pos);
  if (!m) return -1;
  const month = MONTH_NAMES.indexOf(m[2]!);
  const monthIndex = month < MONTHS.length ? month : MONTHS.indexOf(own(ABBREVIATIONS, m[2]!.toLowerCase())!);
  const day = Number(m[1]);
  if (!isValidDate(monthIndex + 1, day)) return -1;
  const the = previousWord(scan)?.toLowerCase() === 'the' ? [] : ['the'];
  emitWords(scan, [...the, ...ordinal(String(day)), 'of', MONTHS[monthIndex]!, ...(m[3] ? year(m[3]) : [])]);
  return pos + m[0].length;
};

const readOrdinal: Reader = (scan, pos) => {
  const m = ordinalRe(scan.text, pos);
  if (!m) return -1;
  emitWords(scan, ordinal(m[1]!.replace(/,/g, '')));
  return pos + m[0].length;
};

const decadeRe = sticky(/'?(\d{2}|\d{4})'?s(?![A-Za-z])/);

const readDecade: Reader = (scan, pos) => {
  const m = decadeRe(scan.text, pos);
  if (!m || !m[1]!.endsWith('0')) return -1;
  emitWords(scan, decade(m[1]!));
  return pos + m[0].length;
};

// Keys are case-sensitive: "5G" is not five grams, "5M" not five meters.
const UNITS: Readonly<Record<string, [string, string]>> = {
  km: ['kilometer', 'kilometers'], m: ['meter', 'meters'], cm: ['centimeter', 'centimeters'],
  mm: ['millimeter', 'millimeters'], kg: ['kilogram', 'kilograms'], g: ['gram', 'grams'],
  mg: ['milligram', 'milligrams'], lb: ['pound', 'pounds'], lbs: ['pound', 'pounds'],
  oz: ['ounce', 'ounces'], ml: ['milliliter', 'milliliters'], mph: ['mile per hour', 'miles per hour'],
  kph: ['kilometer per hour', 'kilometers per hour'], 'km/h': ['kilometer per hour', 'kilometers per hour'],
  Hz: ['hertz', 'hertz'], kHz: ['kilohertz', 'kilohertz'], MHz: ['megahertz', 'megahertz'],
  GHz: ['gigahertz', 'gigahertz'], KB: ['kilobyte', 'kilobytes'], kB: ['kilobyte', 'kilobytes'],
  MB: ['megabyte', 'megabytes'], GB: ['gigabyte', 'gigabytes'], TB: ['terabyte', 'terabytes'],
  ms: ['millisecond', 'milliseconds'],
};

const numberRe = sticky(new RegExp(String.raw`(?:${INT}(?:\.(\d+))?|\.(\d+))`));
// What may follow a number and change its reading: %, degrees, a trailing
// currency sign ("5€"), or a unit (attached, or after a space when it is not
// also a common word).
const suffix = sticky(/\s?(%|°\s?[CF](?![A-Za-z])|°|[$€£¥])|(km\/h|[A-Za-z]{1,3})(?![A-Za-z\d])|\s(km|kg|cm|mm|mg|ml|mph|kph|lbs|oz|Hz|kHz|MHz|GHz|KB|MB|GB|TB|ms)(?![A-Za-z\d])/);

function withSuffix(scan: Scan, intPart: string | undefined, frac: string | undefined, pos: number): number {
  const m = suffix(scan.text, pos);
  if (!m) return -1;
  const [text, symbol, attachedUnit, spacedUnit] = m;
  const amount = quantity(intPart ?? '', frac);
  const one = frac === undefined && intPart !== undefined && /^0*1$/.test(intPart);
  if (symbol === '%') {
    emitWords(scan, [...amount, 'percent']);
  } else if (symbol?.startsWith('°')) {
    const scale = symbol.endsWith('C') ? ['celsius'] : symbol.endsWith('F') ? ['fahrenheit'] : [];
    emitWords(scan, [...amount, one ? 'degree' : 'degrees', ...scale]);
  } else if (symbol) {
    emitWords(scan, money(symbol, intPart ?? '', frac));
  } else {
    const names = own(UNITS, (attachedUnit ?? spacedUnit)!);
    if (!names) return -1;
    emitWords(scan, [...amount, ...(one ? names[0] : names[1]).split(' ')]);
  }
  return pos + text.length;
}

const readNumber: Reader = (scan, pos) => {
  const m = numberRe(scan.text, pos);
  if (!m) return -1;
  const [all, intPart, frac, bareFrac] = m;
  const end = pos + all.length;
  const withUnit = withSuffix(scan, intPart, frac ?? bareFrac, end);
  if (withUnit >= 0) return withUnit;
  const plain = intPart !== undefined && frac === undefined;
  emitWords(scan, plain ? integer(intPart) : quantity(intPart ?? '', frac ?? bareFrac));
  return end;
};

/** A sign: only where it cannot be a hyphen ("-5", "(-3)", "-$5", but not "COVID-19"). */
const readSign: Reader = (scan, pos) => {
  const c = scan.text[pos];
  if ((c !== '-' && c !== '+') || isAlnum(scan.text[pos - 1]) || !/^[$€£¥]?\.?\d/.test(scan.text.slice(pos + 1, pos + 4))) {
    return -1;
  }
  scan.out.push(word(c === '-' ? 'minus' : 'plus'));
  return pos + 1;
};

// ── words ───────────────────────────────────────────────────────────────────

const dotted = sticky(/Ph\.D\.|(?:[A-Za-z]\.){2,}/);

const readDotted: Reader = (scan, pos) => {
  const m = dotted(scan.text, pos);
  if (!m) return -1;
  const end = pos + m[0].length;
  const meaning = own(DOTTED, m[0].toLowerCase());
  if (meaning) emitWords(scan, meaning.split(' '));
  else scan.out.push(spelled(m[0].replace(/\./g, '').toUpperCase()));
  if (!meaning && endsSentence(scan.text, end)) scan.out.push(mark('.'));
  return end;
};

const wordRe = sticky(/[A-Za-z]+(?:'[A-Za-z]+)*/);
const hyphenatedRe = sticky(/[A-Za-z]+(?:-[A-Za-z]+){1,3}(?![A-Za-z-])/);

/**
 * A hyphenated word is one word when CMUdict has it ("x-ray", "t-shirt"), or
 * has it written solid while a part is unknown ("Wi-Fi" → wifi); otherwise
 * the hyphen separates words ("well-behaved" → well, behaved).
 */
function hyphenatedWord(text: string, pos: number): string | undefined {
  const m = hyphenatedRe(text, pos);
  if (!m) return undefined;
  const lower = m[0].toLowerCase();
  if (inLexicon(lower)) return m[0];
  const solid = lower.replace(/-/g, '');
  return inLexicon(solid) && lower.split('-').some((part) => !inLexicon(part)) ? m[0].replace(/-/g, '') : undefined;
}
const dayAfterMonth = sticky(/\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?![\d:.,]\d|\d|[A-Za-z%])(?:,?\s+(\d{4})(?![\d]))?/);
const numberAfterNo = sticky(/\.\s?(?=\d)/);
const initialDot = sticky(/\.(?=\s+[A-Z][a-z.])/);

function previousWord(scan: Scan): string | undefined {
  const last = scan.out[scan.out.length - 1];
  return last?.kind === 'word' ? last.text : undefined;
}

const isCapitalized = (w: string | undefined): boolean => w !== undefined && /^[A-Z]/.test(w);

/** "March 5", "Jan. 5th, 2024": month (capitalized) and day, with an optional year. */
function readMonthDay(scan: Scan, monthIndex: number, end: number): number {
  const m = dayAfterMonth(scan.text, end);
  if (!m || !isValidDate(monthIndex + 1, Number(m[1]))) return -1;
  emitWords(scan, date(monthIndex + 1, Number(m[1]), m[2]));
  return end + m[0].length;
}

// Capitalized words that start sentences but never name a street ("The Dr. said").
const NOT_NAMES = new Set(['the', 'a', 'an', 'my', 'your', 'his', 'her', 'our', 'their', 'this', 'that', 'dear', 'ask', 'call', 'see', 'to', 'at', 'on', 'in', 'by', 'from', 'with']);

function readAbbreviation(scan: Scan, w: string, end: number): number {
  const lower = w.toLowerCase();
  const dot = scan.text[end] === '.';
  const next = /^\.?\s*([A-Za-z0-9]*)/.exec(scan.text.slice(end, end + 40))![1];
  const prev = previousWord(scan);
  if (Object.hasOwn(TITLES, lower) && (dot || (UNDOTTED_TITLES.has(lower) && isCapitalized(w) && isCapitalized(next)))) {
    const place = own(PLACE_READINGS, lower);
    const afterName =
      (isCapitalized(prev) && !NOT_NAMES.has(prev!.toLowerCase())) || /^(first|second|third|\w+th)$/.test(prev ?? '');
    if (place && afterName && (!isCapitalized(next) || lower === 'st')) {
      scan.out.push(word(place));
      if (dot && endsSentence(scan.text, end + 1)) scan.out.push(mark('.'));
      return end + (dot ? 1 : 0);
    }
    // Before a lower-case word only the common titles are safe to expand ("the dr. said").
    if (!isCapitalized(next) && !UNDOTTED_TITLES.has(lower)) return -1;
    emitWords(scan, TITLES[lower]!.split(' '));
    return end + (dot ? 1 : 0);
  }
  if (lower === 'no' && numberAfterNo(scan.text, end)) {
    scan.out.push(word('number'));
    return end + 1;
  }
  if (Object.hasOwn(ABBREVIATIONS, lower) && (dot || UNDOTTED_ABBREVIATIONS.has(lower))) {
    emitWords(scan, ABBREVIATIONS[lower]!.split(' '));
    if (dot && SENTENCE_FINAL.has(lower) && endsSentence(scan.text, end + 1)) scan.out.push(mark('.'));
    return end + (dot ? 1 : 0);
  }
  return -1;
}

// Words after which a Roman numeral is a plain number ("Chapter IV" → chapter four).
const COUNTED = new Set([
  'chapter', 'part', 'volume', 'book', 'act', 'scene', 'war', 'phase', 'episode', 'season', 'level',
  'stage', 'type', 'class', 'article', 'section', 'round', 'grade', 'canto', 'psalm',
]);

/**
 * A Roman numeral after a counted noun is a cardinal; after a name it is a
 * regnal number ("Louis XIV" → louis the fourteenth), but only when written
 * with I, V and X and at least two letters, so that "CD", "MIX" and the
 * pronoun "I" stay words.
 */
function readRoman(scan: Scan, w: string): boolean {
  const value = romanValue(w);
  const prev = previousWord(scan);
  if (value === undefined || prev === undefined || !scan.mixedCase) return false;
  if (COUNTED.has(prev.toLowerCase())) {
    emitWords(scan, cardinal(String(value)));
    return true;
  }
  if (w.length >= 2 && /^[IVX]+$/.test(w) && isCapitalized(prev)) {
    emitWords(scan, ['the', ...ordinal(String(value))]);
    return true;
  }
  return false;
}

const acronymRe = /^([A-Z]{2,})('s|s)?$/;

function readPlainWord(scan: Scan, w: string): void {
  if (readRoman(scan, w)) return;
  const acronym = scan.mixedCase ? acronymRe.exec(w) : null;
  if (acronym) {
    const letters = acronym[1]!;
    const known = inLexicon(w.toLowerCase()) && !ALWAYS_SPELLED.has(letters);
    const pronounceable = letters.length > 4 && /[AEIOUY]/.test(letters);
    if (!known && !pronounceable) {
      scan.out.push(spelled(w));
      return;
    }
  }
  if (w.length <= MAX_WORD_LETTERS) {
    scan.out.push(word(w));
    return;
  }
  for (let i = 0; i < w.length; i += CHUNK_LETTERS) scan.out.push(word(w.slice(i, i + CHUNK_LETTERS)));
}

const readWord: Reader = (scan, pos) => {
  const m = wordRe(scan.text, pos);
  if (!m) return -1;
  const joined = hyphenatedWord(scan.text, pos);
  if (joined !== undefined) {
    scan.out.push(word(joined));
    return hyphenatedRe(scan.text, pos)![0].length + pos;
  }
  const w = m[0];
  const end = pos + w.length;
  const lower = w.toLowerCase();
  const monthIndex = MONTHS.indexOf(lower) >= 0 ? MONTHS.indexOf(lower) : MONTHS.indexOf(own(ABBREVIATIONS, lower) ?? '');
  if (monthIndex >= 0 && isCapitalized(w)) {
    const consumed = readMonthDay(scan, monthIndex, end);
    if (consumed >= 0) return consumed;
  }
  const consumed = readAbbreviation(scan, w, end);
  if (consumed >= 0) return consumed;
  readPlainWord(scan, w);
  // An initial before a name ("John F. Kennedy") is not the end of a sentence.
  const isInitial = /^[B-HJ-Z]$/.test(w) && initialDot(scan.text, end);
  return isInitial ? end + 1 : end;
};

// ── symbols and punctuation ─────────────────────────────────────────────────

const SYMBOL_WORDS: Readonly<Record<string, string>> = {
  '&': 'and', '@': 'at', '+': 'plus', '=': 'equals', '%': 'percent', '°': 'degrees', '×': 'times',
  '<': 'less than', '>': 'greater than', '~': 'about', '§': 'section', '¶': 'paragraph',
};

const readSymbol: Reader = (scan, pos) => {
  const c = scan.text[pos]!;
  if (c === '#') {
    const next = scan.text[pos + 1];
    emitWords(scan, [/\d/.test(next ?? '') ? 'number' : isLetter(next) ? 'hashtag' : 'hash']);
    return pos + 1;
  }
  const spoken = own(SYMBOL_WORDS, c);
  if (!spoken) return -1;
  emitWords(scan, spoken.split(' '));
  return pos + 1;
};

const dots = sticky(/\.+/);
const dashes = sticky(/-+/);
const BREAKS = new Set(['—', '–', '(', ')', '[', ']', '{', '}', '|']);

const readPunctuation: Reader = (scan, pos) => {
  const text = scan.text;
  const c = text[pos]!;
  if (text.startsWith('...', pos)) {
    const end = pos + dots(text, pos)![0].length;
    scan.out.push(mark(endsSentence(text, end) ? '.' : '—'));
    return end;
  }
  if (text.startsWith('--', pos)) {
    scan.out.push(mark('—'));
    return pos + dashes(text, pos)![0].length;
  }
  if (c === '-') {
    // A hyphen joins words ("well-known" → two words); one standing alone is a dash.
    const spaced = /\s/.test(text[pos - 1] ?? ' ') && /\s/.test(text[pos + 1] ?? ' ');
    if (spaced) scan.out.push(mark('—'));
    return pos + 1;
  }
  if ('.,?!;:'.includes(c)) {
    scan.out.push(mark(c as Punctuation));
    return pos + 1;
  }
  if (BREAKS.has(c)) {
    scan.out.push(mark('—'));
    return pos + 1;
  }
  return -1;
};

const READERS: readonly Reader[] = [
  readUrl, readEmail, readMoney, readPhoneNumber, readTime, readNumericDate, readFraction, readRange,
  readDayMonth, readOrdinal, readDecade, readNumber, readSign, readDotted, readWord, readSymbol, readPunctuation,
];

// Strongest first: a run of marks collapses to its strongest ("?!" → "?", ", —" → "—").
const STRENGTH: readonly Punctuation[] = ['?', '!', '.', ';', ':', '—', ','];
const SENTENCE_END = new Set<Punctuation>(['?', '!', '.']);

/**
 * Collapses runs of marks, drops marks before the first word, and ends the
 * sequence with a sentence mark ("." unless the text ends with "?" or "!").
 */
function tidy(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  let pending: Punctuation | undefined;
  const flush = () => {
    if (pending !== undefined && out.length > 0) out.push(mark(pending));
    pending = undefined;
  };
  for (const t of tokens) {
    if (t.kind === 'punct') {
      if (pending === undefined || STRENGTH.indexOf(t.mark) < STRENGTH.indexOf(pending)) pending = t.mark;
    } else {
      flush();
      out.push(t);
    }
  }
  if (out.length === 0) return out;
  out.push(mark(pending !== undefined && SENTENCE_END.has(pending) ? pending : '.'));
  return out;
}

/** Text → words and marks; empty when the text has nothing to say. */
export function spokenTokens(text: string): Token[] {
  const cleaned = cleanText(text);
  const scan: Scan = { text: cleaned, mixedCase: /[a-z]/.test(cleaned), out: [] };
  let pos = 0;
  while (pos < cleaned.length) {
    if (/\s/.test(cleaned[pos]!)) {
      pos++;
      continue;
    }
    let next = -1;
    for (const read of READERS) {
      next = read(scan, pos);
      if (next > pos) break;
    }
    // Anything no reader wants (emoji, quotes, other scripts) is skipped, one code point at a time.
    pos = next > pos ? next : pos + (cleaned.codePointAt(pos)! > 0xffff ? 2 : 1);
  }
  return tidy(scan.out);
}

/** The spoken form as one string: words lower case, spelled words upper case, marks attached. */
export function spokenText(text: string): string {
  return spokenTokens(text)
    .map((t) => (t.kind === 'punct' ? (t.mark === '—' ? ' —' : t.mark) : ` ${t.spell ? t.text : t.text.toLowerCase()}`))
    .join('')
    .trim();
}
