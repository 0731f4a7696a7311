// Word → phones. Order of attempts for a word CMUdict lacks:
//   1. morphology against the dictionary: possessive/plural -s, -ed, -ing, -er,
//      -est, -ly, -ness, -less, -ful, -ment, -able, … and prefixes un-, re-, …
//      (stems tried as written, with a final e restored, with a doubled
//      consonant undone, and y for -ies/-ied/-ily), up to two affixes deep;
//   2. camel-case pieces ("JavaScript" → java + script);
//   3. a compound of two dictionary words ("sunflowerfield" → sunflower + field),
//      the second part's primary stress lowered to secondary;
//   4. letters without a vowel are spelled ("pwn" is not, "hmm" is in CMUdict);
//   5. the NRL letter-to-sound rules (letter-to-sound.ts).
// Before these, stretched spellings are shortened ("sooo" → so) and an 's
// ending is taken off a name the rules must guess ("Priya's" → Priya + Z).
import { inLexicon, letterName, lookup } from './lexicon.js';
import { letterToSound } from './letter-to-sound.js';

const VOICELESS = new Set(['P', 'T', 'K', 'F', 'TH']);
const SIBILANT = new Set(['S', 'Z', 'SH', 'ZH', 'CH', 'JH']);

function withS(base: string[]): string[] {
  const last = base[base.length - 1] ?? '';
  if (SIBILANT.has(last)) return [...base, 'IH0', 'Z'];
  return [...base, VOICELESS.has(last) ? 'S' : 'Z'];
}

function withEd(base: string[]): string[] {
  const last = base[base.length - 1] ?? '';
  if (last === 'T' || last === 'D') return [...base, 'IH0', 'D'];
  return [...base, VOICELESS.has(last) || last === 'S' || last === 'SH' || last === 'CH' ? 'T' : 'D'];
}

const plus = (...phones: string[]) => (base: string[]): string[] => [...base, ...phones];

const asWritten = (stem: string): string[] => [stem];
// "hoping" ← hope, "stopped" ← stop: the stem as written, with e, undoubled.
const verbStems = (stem: string): string[] => {
  const stems = [stem, `${stem}e`];
  if (/([b-df-hj-np-tv-z])\1$/.test(stem)) stems.push(stem.slice(0, -1));
  return stems;
};
const yStem = (stem: string): string[] => [`${stem}y`];

interface Suffix {
  suffix: string;
  stems: (stem: string) => string[];
  add: (base: string[]) => string[];
}

const SUFFIXES: readonly Suffix[] = [
  { suffix: "'s", stems: asWritten, add: withS },
  { suffix: 's', stems: asWritten, add: withS },
  { suffix: 'ies', stems: yStem, add: withS },
  { suffix: 'es', stems: asWritten, add: withS },
  { suffix: 'ied', stems: yStem, add: withEd },
  { suffix: 'ed', stems: verbStems, add: withEd },
  { suffix: 'ing', stems: verbStems, add: plus('IH0', 'NG') },
  { suffix: 'er', stems: verbStems, add: plus('ER0') },
  { suffix: 'est', stems: verbStems, add: plus('AH0', 'S', 'T') },
  { suffix: 'ily', stems: yStem, add: plus('AH0', 'L', 'IY0') },
  { suffix: 'ly', stems: asWritten, add: plus('L', 'IY0') },
  { suffix: 'ness', stems: asWritten, add: plus('N', 'AH0', 'S') },
  { suffix: 'less', stems: asWritten, add: plus('L', 'AH0', 'S') },
  { suffix: 'ful', stems: asWritten, add: plus('F', 'AH0', 'L') },
  { suffix: 'ment', stems: asWritten, add: plus('M', 'AH0', 'N', 'T') },
  { suffix: 'able', stems: verbStems, add: plus('AH0', 'B', 'AH0', 'L') },
  { suffix: 'ism', stems: asWritten, add: plus('IH2', 'Z', 'AH0', 'M') },
  { suffix: 'ist', stems: asWritten, add: plus('IH0', 'S', 'T') },
  { suffix: 'ize', stems: asWritten, add: plus('AY2', 'Z') },
  { suffix: 'ship', stems: asWritten, add: plus('SH', 'IH2', 'P') },
  { suffix: 'hood', stems: asWritten, add: plus('HH', 'UH2', 'D') },
  { suffix: 'like', stems: asWritten, add: plus('L', 'AY2', 'K') },
  { suffix: 'wise', stems: asWritten, add: plus('W', 'AY2', 'Z') },
  { suffix: 'y', stems: verbStems, add: plus('IY0') },
];

const PREFIXES: readonly { prefix: string; phones: string[] }[] = [
  { prefix: 'un', phones: ['AH0', 'N'] },
  { prefix: 're', phones: ['R', 'IY0'] },
  { prefix: 'non', phones: ['N', 'AA2', 'N'] },
  { prefix: 'pre', phones: ['P', 'R', 'IY0'] },
  { prefix: 'mis', phones: ['M', 'IH0', 'S'] },
  { prefix: 'dis', phones: ['D', 'IH0', 'S'] },
  { prefix: 'over', phones: ['OW2', 'V', 'ER0'] },
  { prefix: 'under', phones: ['AH2', 'N', 'D', 'ER0'] },
  { prefix: 'out', phones: ['AW2', 'T'] },
  { prefix: 'anti', phones: ['AE2', 'N', 'T', 'IY0'] },
  { prefix: 'super', phones: ['S', 'UW2', 'P', 'ER0'] },
  { prefix: 'inter', phones: ['IH2', 'N', 'T', 'ER0'] },
  { prefix: 'multi', phones: ['M', 'AH2', 'L', 'T', 'IY0'] },
  { prefix: 'self', phones: ['S', 'EH2', 'L', 'F'] },
];

/** Words longer than this skip morphology and compounds (their cost grows with length). */
const MAX_DECOMPOSE_LETTERS = 30;
const MIN_PART_LETTERS = 3;
const HAS_VOWEL = /[aeiouy]/;

function demote(phones: string[]): string[] {
  return phones.map((p) => p.replace(/1$/, '2'));
}

function affixed(word: string, depth: number): string[] | undefined {
  for (const { suffix, stems, add } of SUFFIXES) {
    if (!word.endsWith(suffix)) continue;
    const stem = word.slice(0, -suffix.length);
    if (stem.length < MIN_PART_LETTERS - 1 || !HAS_VOWEL.test(stem)) continue;
    for (const candidate of stems(stem)) {
      const base = known(candidate, depth - 1);
      if (base) return add(base);
    }
  }
  for (const { prefix, phones } of PREFIXES) {
    if (!word.startsWith(prefix) || word.length - prefix.length < MIN_PART_LETTERS) continue;
    const base = known(word.slice(prefix.length), depth - 1);
    if (base) return [...phones, ...base];
  }
  return undefined;
}

function compound(word: string): string[] | undefined {
  for (let cut = word.length - MIN_PART_LETTERS; cut >= MIN_PART_LETTERS; cut--) {
    const left = word.slice(0, cut);
    const right = word.slice(cut);
    if (!HAS_VOWEL.test(left) || !HAS_VOWEL.test(right) || !inLexicon(left)) continue;
    const tail = known(right, 1);
    if (tail) return [...lookup(left)!, ...demote(tail)];
  }
  return undefined;
}

/** Dictionary or morphological pronunciation; undefined when neither applies. */
function known(word: string, depth: number): string[] | undefined {
  const entry = lookup(word);
  if (entry || depth <= 0 || word.length > MAX_DECOMPOSE_LETTERS) return entry;
  return affixed(word, depth);
}

/**
 * Letter names for each letter; in an acronym ("FBI's", "CDs") a final 's or
 * lower-case s after capitals is the plural or possessive ending.
 */
export function spell(text: string): string[] {
  const suffix = /^([A-Z]+)(?:'s|s)$/.exec(text);
  const names = [...(suffix ? suffix[1]! : text)].filter((c) => /[A-Za-z]/.test(c)).flatMap((l) => letterName(l));
  return suffix ? withS(names) : names;
}

function camelPieces(word: string): string[] {
  return word.match(/[A-Z]?[a-z']+|[A-Z]+(?![a-z])/g) ?? [];
}

/**
 * Stretched spellings: runs of three or more letters shortened to one at the
 * end of the word and two inside ("sooo" → so, "goood" → good), else to one
 * ("wooow" → wow) or two ("hmmmm" → hmm) everywhere, whichever CMUdict has.
 */
function unstretched(word: string): string[] | undefined {
  if (!/(.)\1\1/.test(word)) return undefined;
  const run = /(.)\1{2,}/g;
  return (
    lookup(word.replace(/(.)\1{2,}$/, '$1').replace(run, '$1$1')) ??
    lookup(word.replace(run, '$1')) ??
    lookup(word.replace(run, '$1$1'))
  );
}

/** Phones with stress for one word of letters and apostrophes, in any case. */
export function pronounce(word: string): string[] {
  const lower = word.toLowerCase().replace(/^'+|'+$/g, '');
  if (lower === '') return [];
  const morph = lookup(lower) ?? unstretched(lower) ?? known(lower, 2);
  if (morph) return morph;
  if (lower.endsWith("'s") && lower.length > 2) return withS(pronounce(word.slice(0, -2)));
  const pieces = camelPieces(word);
  if (pieces.length > 1 && pieces.join('') === word) return pieces.flatMap((p) => pronounce(p));
  if (lower.length <= MAX_DECOMPOSE_LETTERS) {
    const parts = compound(lower);
    if (parts) return parts;
  }
  if (!HAS_VOWEL.test(lower)) return spell(lower);
  return letterToSound(lower);
}
