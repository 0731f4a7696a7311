// Word timings for the text as written. The server reports the words it
// pronounced after normalisation ("Dr." is "doctor", "$3.50" is four words, all
// lower case); LiveKit shows the TTS-aligned transcript to users, so each
// written token gets the time span of the spoken words it became.
import type { SpokenWord } from './protocol.js';

export interface TimedToken {
  /** The token as written, followed by one space. */
  text: string;
  startMs: number;
  endMs: number;
}

/** What alignment needs of a spoken word. */
type Timed = Pick<SpokenWord, 'word' | 'startMs' | 'endMs'>;

const key = (s: string): string => s.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');

/**
 * Aligns the whitespace-separated tokens of `text` with `words` by the longest
 * run of exact matches (after lower-casing and trimming punctuation); tokens
 * between two matches share the time of the words between them, evenly. A token
 * that became no word at all joins its neighbour's text, so the tokens' texts
 * always join back to `text` (whitespace normalised).
 */
export function alignTokens(text: string, words: readonly Timed[]): TimedToken[] {
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return [];
  if (words.length === 0) return [{ text: tokens.join(' ') + ' ', startMs: 0, endMs: 0 }];
  const keys = tokens.map(key);
  const spoken = words.map((w) => key(w.word));

  // lcs[i][j]: matches in tokens[i..] × words[j..]. Phrases hold at most 30 words.
  const n = tokens.length;
  const m = words.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = keys[i] !== '' && keys[i] === spoken[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }

  const out: TimedToken[] = [];
  // Tokens and words waiting for the next match, which closes the gap.
  let gapTokens: string[] = [];
  let gapWords: Timed[] = [];
  let leadStartMs: number | undefined;
  const closeGap = (): void => {
    if (gapTokens.length > 0 && gapWords.length > 0) {
      const start = gapWords[0]!.startMs;
      const step = (gapWords[gapWords.length - 1]!.endMs - start) / gapTokens.length;
      gapTokens.forEach((t, k) => out.push({ text: t + ' ', startMs: start + k * step, endMs: start + (k + 1) * step }));
    } else if (gapTokens.length > 0) {
      // Written but silent (a lone dash, an emoji): keep it with the word before.
      const previous = out[out.length - 1];
      if (previous) previous.text += gapTokens.join(' ') + ' ';
      else out.push({ text: gapTokens.join(' ') + ' ', startMs: words[0]!.startMs, endMs: words[0]!.startMs });
    } else if (gapWords.length > 0 && out.length > 0) {
      // Spoken but not written as such: the token before lasts until it ends.
      out[out.length - 1]!.endMs = gapWords[gapWords.length - 1]!.endMs;
    } else if (gapWords.length > 0) {
      // ... or, at the start, the token after begins with it.
      leadStartMs = gapWords[0]!.startMs;
    }
    gapTokens = [];
    gapWords = [];
  };

  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && keys[i] !== '' && keys[i] === spoken[j] && lcs[i]![j] === lcs[i + 1]![j + 1]! + 1) {
      closeGap();
      out.push({ text: tokens[i]! + ' ', startMs: leadStartMs ?? words[j]!.startMs, endMs: words[j]!.endMs });
      leadStartMs = undefined;
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      gapWords.push(words[j]!);
      j++;
    } else {
      gapTokens.push(tokens[i]!);
      i++;
    }
  }
  closeGap();
  return out;
}
