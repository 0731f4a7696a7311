// What the benchmark says. Every sentence is fixed, so that two runs (and Festival)
// speak the same words.
import { readFileSync } from 'node:fs';

/** For the per-stage real-time factors and the Festival comparison: short, medium, long. */
export const STAGE_SENTENCES = [
  'Hello there.',
  'I really did not expect to see you here today, but I am glad that you came.',
  'The quick brown fox jumps over the lazy dog, and then it runs back into the forest before anyone notices.',
];

const NAMES = ['Priya', 'Marcus', 'Nora', 'Jamal', 'Elena', 'Oliver', 'Sofia', 'Daniel', 'Amara', 'Lucas', 'Hannah', 'Mateo', 'Grace', 'Ethan', 'Leila', 'Samuel', 'Chloe', 'Victor', 'Maya', 'Felix'];
const VERBS = ['laughed', 'waited', 'listened', 'nodded', 'smiled', 'whispered', 'answered', 'agreed', 'paused', 'sighed'];
const ADVERBS = ['softly', 'quietly', 'happily', 'slowly', 'calmly', 'warmly', 'gently', 'briefly', 'kindly', 'sadly'];
const ADJECTIVES = ['small', 'green', 'wooden', 'shiny', 'heavy', 'yellow', 'broken', 'gentle', 'silver', 'quiet'];
const NOUNS = ['lamp', 'basket', 'letter', 'ladder', 'kettle', 'blanket', 'bottle', 'candle', 'window', 'garden'];

/**
 * The k-th first phrase of exactly `words` words (3, 6 or 12): one sentence, no clause
 * mark, so the segmenter cuts it at its full stop and nowhere else.
 */
export function firstPhrase(words: 3 | 6 | 12, k: number): string {
  const name = NAMES[k % NAMES.length]!;
  const pick = (list: string[], salt: number) => list[(k * 7 + salt) % list.length]!;
  if (words === 3) return `${name} ${pick(VERBS, 1)} ${pick(ADVERBS, 3)}.`;
  if (words === 6) return `${name} found a ${pick(ADJECTIVES, 2)} ${pick(NOUNS, 5)} today.`;
  return `${name} said the ${pick(ADJECTIVES, 4)} ${pick(NOUNS, 1)} near the old bridge was finally repaired.`;
}

/**
 * A word that begins the next sentence: it confirms the full stop before it (a lowercase
 * word would make it a clause mark), so the message carrying it completes the phrase.
 */
export const NEXT_WORD = 'Then';

let corpus: string[] | undefined;

/** Conversational lines (the recipe's own corpus) for sessions that talk continuously. */
function lines(): string[] {
  corpus ??= readFileSync(new URL('../models/recipe/corpus/conversational.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return corpus;
}

/** `count` lines of the corpus (short sentences each), from line `offset`, as one text. */
export function shortSentences(count: number, offset: number): string {
  const all = lines();
  return Array.from({ length: count }, (_, k) => all[(offset + k) % all.length]!).join(' ');
}

/** About `words` words of running conversation, starting at line `offset` (wrapping). */
export function conversation(words: number, offset: number): string {
  const all = lines();
  const out: string[] = [];
  let count = 0;
  for (let i = offset; count < words; i++) {
    const line = all[i % all.length]!;
    out.push(line);
    count += line.split(/\s+/).length;
  }
  return out.join(' ');
}

/**
 * About `words` words of a reply that mixes short sentences (a corpus line) with long ones
 * (three lines joined into one sentence, 20 to 40 words), from line `offset`: a session must
 * cut the long ones at pause points, or wait for their end, while the listener plays.
 */
export function mixedReply(words: number, offset: number): string {
  const all = lines();
  const out: string[] = [];
  let count = 0;
  for (let i = offset, k = 0; count < words; k++) {
    const parts = Array.from({ length: k % 2 === 0 ? 1 : 3 }, () => all[i++ % all.length]!);
    const sentence = parts.length === 1 ? parts[0]! : `${parts.map((p) => p.replace(/[.!?]+$/, '')).join(', and ')}.`;
    out.push(sentence);
    count += sentence.split(/\s+/).length;
  }
  return out.join(' ');
}
