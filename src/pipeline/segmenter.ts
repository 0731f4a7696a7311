/**
 * Phrase segmentation of streamed text (LLM tokens) for synthesis phrase by phrase.
 *
 * Text is cut only between words: at whitespace, or right after an em dash or
 * CJK punctuation inside a run of non-space text ("this—that", "你好。世界").
 * A boundary counts only once the character after it has arrived, so a word
 * still being streamed is never cut ("3." may yet become "3.14"). Since cuts
 * fall only at boundaries, numbers, decimals, URLs and e-mail addresses are
 * not split, up to `maxTokenChars` characters: a longer run of non-space text
 * (a thousand digits, a URL of kilobytes) is taken as words of `maxTokenChars`
 * characters each, counted from its start, and a word that would read as more
 * than `maxWords` words ("a1b2c3…", 64 digits) is halved until none does, so
 * that no phrase reads as more than `maxWords` words.
 *
 * Where a phrase ends (the earliest boundary that qualifies wins):
 *  - sentence end: . ! ? … ‼ ⁇ ⁈ ⁉ 。 ！ ？ ． ｡ (any run of them), also
 *    followed by closing quotes or brackets, at any length; a single full stop
 *    does not end a sentence after an abbreviation (Dr. etc. e.g. U.S. p.m.),
 *    an initial (J.) or a list number opening the phrase ("1. Preheat …");
 *    before a lowercase word ('"Stop!" she said') it is only a clause mark,
 *    so this cut waits for the next word's first letter (or the stream's end);
 *  - clause mark: , ; : — – ， ； ： 、 or a spaced dash, once the phrase has
 *    `minClauseWords` words;
 *  - length: once the phrase has `maxWords` spoken words (counted in
 *    the spoken form: "1,000,000" is two, "https://a.io/x" five), or before a
 *    word whose reading would take it past that, or before a word that would
 *    take it past `maxChars` characters (a single longer word is emitted
 *    whole).
 * These rules see only the text, so feeding it whole, token by token or
 * character by character gives the same phrases.
 *
 * The first phrase of a stream may also end early, to reach first audio
 * sooner, and so may any phrase when the listener is about to run out of
 * audio (`hurry`). An early cut falls only where a speaker could pause: after
 * a clause mark once the phrase has `firstClauseWords` words, or before a
 * word that opens a new phrase (a conjunction or preposition: "but", "when",
 * "through") once it has `firstPhraseWords`; and only once `minTailWords`
 * more words have arrived after it, so that a word or two is never left to
 * be synthesized alone. A sentence whose end is already buffered is never
 * cut early: it waits for its end to be confirmed and is spoken whole. An
 * opening sentence of fewer than `minFirstSentenceWords` words ("Sure!", "Yes,
 * please.") is no phrase of its own while the stream goes on: its half second
 * of audio runs out before the next phrase's words have arrived, so it is
 * spoken with the text after it, up to that text's first cut (its end counts
 * as a clause mark there, and the next sentence's words count from it). This
 * rule depends on arrival: text that arrives with its sentence end in it is
 * not cut early, text that trickles in may be. Phrases realign with the
 * whole-text segmentation at the next sentence end.
 *
 * Phrases are trimmed; joining them with spaces gives back the input's words.
 */
import { Observable, concat, defer, mergeMap, type OperatorFunction } from 'rxjs';
import { ABBREVIATIONS, TITLES } from './frontend/abbreviations.js';
import { spokenTokens } from './frontend/spoken-form.js';

export interface SegmenterOptions {
  /** Cut at a clause mark once the phrase has at least this many words (default 8). */
  minClauseWords?: number;
  /** Force a cut once the phrase has this many words (default 30). */
  maxWords?: number;
  /** Never let a phrase of several words exceed this many characters (default 200). */
  maxChars?: number;
  /** Longest word: longer runs of non-space text are cut every this many characters (default 64). */
  maxTokenChars?: number;
  /** Allow the early cut of the first phrase (default true). */
  earlyFirstPhrase?: boolean;
  /** Early first phrase: cut at a clause mark after this many words (default 3). */
  firstClauseWords?: number;
  /** Early cut: before a phrase-opening word once the phrase has this many words (default 4). */
  firstPhraseWords?: number;
  /** Early cut: words that must have arrived after the cut, none of them ending the sentence (default 3). */
  minTailWords?: number;
  /** With the early first phrase: a stream's first phrase ends at a sentence end only once it has this many words (default 3). */
  minFirstSentenceWords?: number;
}

export const DEFAULT_SEGMENTER_OPTIONS: Readonly<Required<SegmenterOptions>> = {
  minClauseWords: 8,
  maxWords: 30,
  maxChars: 200,
  maxTokenChars: 64,
  earlyFirstPhrase: true,
  firstClauseWords: 3,
  firstPhraseWords: 4,
  minTailWords: 3,
  minFirstSentenceWords: 3,
};

/** The server's default for `earlyCutOptions` (chosen by `npm run bench`'s phrasing part, docs/benchmarks.md). */
export const DEFAULT_EARLY_CUT_WORDS = DEFAULT_SEGMENTER_OPTIONS.firstPhraseWords;

/**
 * The early-cut options as one number, the server's `--early-cut-words`: a phrase still
 * streaming in may be cut before a phrase-opening word once it has `words` words, or after a
 * clause mark once it has one fewer; 0 turns early cuts off (sentences are spoken whole, and
 * a listener about to run dry waits for the next natural cut).
 */
export function earlyCutOptions(words: number): SegmenterOptions {
  if (!Number.isInteger(words) || words < 0) throw new RangeError(`early-cut words must be an integer ≥ 0, got ${words}`);
  return words === 0 ? { earlyFirstPhrase: false } : { firstPhraseWords: words, firstClauseWords: Math.max(1, words - 1) };
}

export interface PhraseSegmenter {
  /** Adds streamed text; returns the phrases it completed (often none). */
  push(text: string): string[];
  /**
   * The listener is about to run out of audio: cut at the first pause point now (returned) or, if
   * none has arrived yet, at the first one that does; a short opening sentence is cut at its end.
   */
  hurry(): string[];
  /** Ends the stream: returns what is left as a last phrase (none if only whitespace) and resets for a new stream. */
  flush(): string[];
  /** Text pushed and not yet part of an emitted phrase, as received (untrimmed). */
  readonly buffered: string;
}

interface Word {
  start: number;
  end: number;
  text: string;
  /** The character after the word has arrived (or the stream has ended). */
  closed: boolean;
}

type Mark = 'sentence' | 'clause' | 'none';

const CLOSERS = '"\'”’»›)\\]}」』】〉》）';
const OPENERS = '"\'“‘«‹(\\[{¿¡「『【〈《（';
const TRAILING_CLOSERS = new RegExp(`[${CLOSERS}]+$`, 'u');
const LEADING_OPENERS = new RegExp(`^[${OPENERS}]+`, 'u');
const SENTENCE_END = /[.!?…‼⁇⁈⁉。！？．｡]+$/u;
const CLAUSE_END = /(?:[,;:—–，；：、]|--)$/u;
const DASH_ONLY = /^[-–—]+$/u;
// A break inside a run of non-space text: after an em dash or CJK punctuation (and closers), before more text.
const INNER_BREAK = new RegExp(`[—。！？，、；：｡]+[${CLOSERS}]*(?=[^\\s—。！？，、；：｡${CLOSERS}])`, 'gu');
const URL_LIKE = /:\/\/|@|^www\./iu;
const COUNTS_AS_WORD = /[\p{L}\p{N}]/u;
const LOWERCASE = /\p{Ll}/u;
const DOTTED_ABBREVIATION = /^(?:\p{L}{1,2}\.)+\p{L}{1,2}$/u; // U.S, e.g, i.e, p.m, Ph.D
const INITIAL = /^\p{L}$/u;
const LIST_NUMBER = /^\d+$/u;
const NO_SENTENCE_END = new Set([...Object.keys(TITLES), ...Object.keys(ABBREVIATIONS)]);

export function createPhraseSegmenter(options: SegmenterOptions = {}): PhraseSegmenter {
  const opts = { ...DEFAULT_SEGMENTER_OPTIONS, ...options };
  for (const key of ['minClauseWords', 'maxWords', 'maxChars', 'maxTokenChars', 'firstClauseWords', 'firstPhraseWords', 'minTailWords', 'minFirstSentenceWords'] as const) {
    const value = opts[key];
    if (!(value >= 1) || !(Number.isInteger(value) || value === Infinity)) {
      throw new RangeError(`Segmenter option ${key} must be a positive integer or Infinity, got ${value}`);
    }
  }
  let buffer = '';
  let emitted = 0;
  let hurried = false;

  const take = (end: number): string => {
    const phrase = buffer.slice(0, end).trim();
    buffer = buffer.slice(end);
    emitted++;
    return phrase;
  };

  const cutAll = (ended: boolean): string[] => {
    const phrases: string[] = [];
    for (;;) {
      const words = () => splitWords(buffer, ended, opts.maxTokenChars, opts.maxWords);
      const sentenceWords = emitted === 0 && !ended && opts.earlyFirstPhrase ? opts.minFirstSentenceWords : 1;
      const natural = naturalCut(words(), ended, opts, sentenceWords);
      const early = natural === undefined && !ended && (emitted === 0 || hurried);
      const cut = early ? earlyCut(words(), opts, sentenceWords, hurried) : natural;
      if (cut === undefined) return phrases;
      hurried = false; // one cut answers one hurry; the session asks again if still short
      phrases.push(take(cut));
    }
  };

  return {
    push(text) {
      buffer += text;
      return cutAll(false);
    },
    hurry() {
      hurried = opts.earlyFirstPhrase;
      return cutAll(false);
    },
    flush() {
      const phrases = cutAll(true);
      const rest = buffer.trim();
      if (rest) phrases.push(rest);
      buffer = '';
      emitted = 0;
      hurried = false;
      return phrases;
    },
    get buffered() {
      return buffer;
    },
  };
}

/** RxJS form: text chunks in, phrases out; the rest is flushed when the source completes. */
export function segmentPhrases(options: SegmenterOptions = {}): OperatorFunction<string, string> {
  return (source: Observable<string>) =>
    defer(() => {
      const segmenter = createPhraseSegmenter(options);
      return concat(
        source.pipe(mergeMap((text) => segmenter.push(text))),
        defer(() => segmenter.flush()),
      );
    });
}

/**
 * End offset (in the buffer) of the first phrase the text-only rules cut, if any; a sentence of
 * fewer than `sentenceWords` words does not end it.
 */
function naturalCut(words: Iterable<Word>, ended: boolean, opts: Required<SegmenterOptions>, sentenceWords: number): number | undefined {
  let start = 0;
  let count = 0;
  let spoken = 0;
  let index = 0;
  for (const [word, next] of withNext(words)) {
    const first = index++ === 0;
    if (first) start = word.start;
    if (COUNTS_AS_WORD.test(word.text)) count++;
    if (!word.closed) return undefined;
    spoken += spokenWords(word.text);
    let mark = classify(word.text, first);
    if (mark === 'sentence') {
      const lower = next ? startsLowercase(next) : false;
      if (lower === undefined || (!next && !ended)) return undefined; // wait for the next letter
      if (!lower && count >= sentenceWords) return word.end;
      mark = 'clause'; // '"Stop!" she said', '"I know…" and went', a short opening: a pause, not an end
    }
    if (mark === 'clause' && count >= opts.minClauseWords) return word.end;
    if (spoken >= opts.maxWords) return word.end;
    // Only a closed word's reading is known ("1000" reads shorter than "100").
    if (next?.closed && spoken + spokenWords(next.text) > opts.maxWords) return word.end;
    // The next word may still be arriving, but it only grows: once it overflows, it will.
    if (next && next.end - start > opts.maxChars) return word.end;
  }
  return undefined;
}

/**
 * End offset of the first pause point that qualifies for an early cut, if any (see the top of the
 * file). Only the first `maxWords + minTailWords` words are looked at: the work is bounded whatever
 * the buffer holds.
 */
function earlyCut(words: Iterable<Word>, opts: Required<SegmenterOptions>, sentenceWords: number, hurried: boolean): number | undefined {
  if (!opts.earlyFirstPhrase) return undefined;
  const seen: { word: Word; count: number; pauseAfter: boolean }[] = [];
  let count = 0;
  /** Words of the short opening sentences before the current one: the thresholds count the sentence's own. */
  let opening = 0;
  for (const word of words) {
    if (seen.length >= opts.maxWords + opts.minTailWords) break;
    if (COUNTS_AS_WORD.test(word.text)) count++;
    const mark = classify(word.text, seen.length === 0);
    // The whole sentence is here (its end perhaps not yet confirmed): speak it whole.
    if (mark === 'sentence' && count >= sentenceWords) return undefined;
    // A listener waiting for a short opening gets it whole: a sentence end needs no tail.
    if (mark === 'sentence' && hurried && word.closed) return word.end;
    const previous = seen.at(-1);
    if (previous && previous.count - opening >= opts.firstPhraseWords && opensPhrase(word.text) && word.closed) {
      previous.pauseAfter = true;
    }
    const pause = mark === 'sentence' || (mark === 'clause' && count - opening >= opts.firstClauseWords);
    seen.push({ word, count, pauseAfter: word.closed && pause && count >= opts.firstClauseWords });
    if (mark === 'sentence') opening = count;
  }
  // A word still arriving counts toward the tail: it is a word, whatever it becomes.
  return seen.find((c) => c.pauseAfter && count - c.count >= opts.minTailWords)?.word.end;
}

// Words before which English speakers commonly pause: coordinating and subordinating
// conjunctions, relative pronouns, the prepositions that open adverbial phrases, and the
// pronouns that can only be subjects (so they open a clause: "before the tide turns | we
// could"; "you" and "it" are objects too, "give | it back"). "of", "as" and "to" are left
// out: they bind to the word before ("a cup of", "as good as"). Without the subjects and the
// rarer prepositions, a long clause such as "the tide turns we could follow the coast road past
// the lighthouse" had no pause point for 13 words, and a listener at 5 words/s ran dry.
const PHRASE_OPENERS = new Set([
  'and', 'but', 'or', 'nor', 'so', 'yet', 'because', 'although', 'though', 'while', 'whereas', 'when',
  'whenever', 'where', 'wherever', 'if', 'unless', 'until', 'since', 'after', 'before', 'once', 'which',
  'who', 'whose', 'whom', 'that', 'whether', 'in', 'on', 'at', 'with', 'without', 'for', 'from', 'into',
  'onto', 'upon', 'about', 'through', 'throughout', 'across', 'over', 'under', 'beneath', 'between',
  'among', 'during', 'within', 'against', 'toward', 'towards', 'behind', 'beyond', 'beside', 'past',
  'near', 'around', 'along', 'despite', 'except', 'i', 'we', 'he', 'she', 'they',
]);

function opensPhrase(word: string): boolean {
  return PHRASE_OPENERS.has(word.replace(LEADING_OPENERS, '').toLowerCase());
}

/** Pairs each item with the one after it (undefined for the last). */
function* withNext<T>(items: Iterable<T>): Generator<[T, T | undefined]> {
  let previous: T | undefined;
  let started = false;
  for (const item of items) {
    if (started) yield [previous as T, item];
    previous = item;
    started = true;
  }
  if (started) yield [previous as T, undefined];
}

/** Whether a word begins with a lowercase letter (after opening quotes); undefined while that is not yet known. */
function startsLowercase(word: Word): boolean | undefined {
  const first = word.text.replace(LEADING_OPENERS, '')[0];
  if (first === undefined) return word.closed ? false : undefined;
  return LOWERCASE.test(first);
}

function classify(word: string, opensPhrase: boolean): Mark {
  const core = word.replace(TRAILING_CLOSERS, '');
  const end = SENTENCE_END.exec(core);
  if (end) {
    if (end[0] !== '.' && end[0] !== '．') return 'sentence';
    const stem = core.slice(0, -1).replace(LEADING_OPENERS, '');
    const notAnEnd =
      NO_SENTENCE_END.has(stem.toLowerCase()) ||
      DOTTED_ABBREVIATION.test(stem) ||
      INITIAL.test(stem) ||
      (opensPhrase && LIST_NUMBER.test(stem));
    return notAnEnd ? 'none' : 'sentence';
  }
  return CLAUSE_END.test(core) || DASH_ONLY.test(core) ? 'clause' : 'none';
}

/**
 * The buffer's words with their offsets, lazily: a cut is found within the
 * first phrase, so a long buffer is never split whole. The last word is
 * closed only if whitespace follows it or the stream has ended.
 */
function* splitWords(buffer: string, ended: boolean, maxTokenChars: number, maxWords: number): Generator<Word> {
  for (const match of buffer.matchAll(/\S+/gu)) {
    const token = match[0];
    const offset = match.index;
    let from = 0;
    if (!URL_LIKE.test(token)) {
      for (const inner of token.matchAll(INNER_BREAK)) {
        if (inner.index === 0) continue; // a dash opening the token belongs to it
        const to = inner.index + inner[0].length;
        yield* pieces({ start: offset + from, end: offset + to, text: token.slice(from, to), closed: true }, maxTokenChars, maxWords);
        from = to;
      }
    }
    const end = offset + token.length;
    yield* pieces({ start: offset + from, end, text: token.slice(from), closed: ended || end < buffer.length }, maxTokenChars, maxWords);
  }
}

/**
 * A word cut every `maxChars` characters from its start, and each closed piece that
 * would read as more than `maxWords` words halved until none does; all but the last
 * piece are closed. Cuts never fall inside a surrogate pair.
 */
function* pieces(word: Word, maxChars: number, maxWords: number): Generator<Word> {
  let from = 0;
  while (word.text.length - from > maxChars) {
    const to = pairSafe(word.text, from + maxChars);
    yield* halved({ start: word.start + from, end: word.start + to, text: word.text.slice(from, to), closed: true }, maxWords);
    from = to;
  }
  const last = from === 0 ? word : { start: word.start + from, end: word.end, text: word.text.slice(from), closed: word.closed };
  // A piece still growing is read only once closed.
  if (last.closed) yield* halved(last, maxWords);
  else yield last;
}

function* halved(word: Word, maxWords: number): Generator<Word> {
  if (word.text.length < 2 || spokenWords(word.text) <= maxWords) return yield word;
  const mid = pairSafe(word.text, Math.ceil(word.text.length / 2));
  yield* halved({ start: word.start, end: word.start + mid, text: word.text.slice(0, mid), closed: true }, maxWords);
  yield* halved({ start: word.start + mid, end: word.end, text: word.text.slice(mid), closed: word.closed }, maxWords);
}

/** `at`, or one less when that would split a surrogate pair. */
function pairSafe(text: string, at: number): number {
  return /[\uD800-\uDBFF]/.test(text[at - 1]!) ? at - 1 : at;
}

const spokenCounts = new Map<string, number>();
/** Words the front end would say for this one (0 for punctuation and what it cannot read); memoised. */
function spokenWords(text: string): number {
  let n = spokenCounts.get(text);
  if (n === undefined) {
    n = spokenTokens(text).filter((t) => t.kind !== 'punct').length;
    if (spokenCounts.size >= 4096) spokenCounts.clear();
    spokenCounts.set(text, n);
  }
  return n;
}
