// Emotion changes inside one phrase: where each lands in the phonemes and frames, the
// encoder rows that condition each phoneme, and the per-frame course the frame decoder
// and the estimator follow. Pure.
import type { WordSpan } from '../frontend/index.js';
import { courseMixAt, sameMix, type CoursePiece, type EmotionCourse, type Mix, type Ramp } from './emotion-mix.js';
import type { EmotionChange } from './request.js';

/**
 * The phoneme at which each change takes over: where the word before its word ends (so
 * the pause between them is already in the new mix), 0 for word 0, and past the last
 * word for an index beyond the phrase's words.
 */
export function anchorPhonemes(changes: readonly EmotionChange[], words: readonly WordSpan[], phonemes: number): number[] {
  return changes.map(({ word }) => (word === 0 ? 0 : word > words.length ? phonemes : words[word - 1]!.end));
}

export interface EncoderRows {
  /** One mix per encoder batch row, all distinct. */
  rows: Mix[];
  /** [phonemes] the row each phoneme takes its μ and duration from. */
  phonemeRows: Int32Array;
}

/**
 * The encoder and duration predictor see one mix per phoneme, before any duration is
 * known: the phrase's first-frame mix up to the first change, then, after a switch, the
 * mix switched to; a ramped change keeps the mix before it (the ramp itself reaches the
 * frames through the frame decoder and the estimator, as a ramp across phrases does).
 */
export function encoderRows(first: Mix, changes: readonly EmotionChange[], anchors: readonly number[], phonemes: number): EncoderRows {
  const rows: Mix[] = [];
  const rowOf = (mix: Mix): number => {
    const k = rows.findIndex((row) => sameMix(row, mix));
    return k >= 0 ? k : rows.push(mix) - 1;
  };
  const phonemeRows = new Int32Array(phonemes);
  let current = first;
  let from = 0;
  const fill = (to: number) => {
    // A mix no phoneme takes (a change at the phrase start) costs no row.
    if (to > from) phonemeRows.fill(rowOf(current), from, to);
    from = Math.max(from, to);
  };
  changes.forEach((change, k) => {
    fill(anchors[k]!);
    if (change.rampMs === 0) current = change.to;
  });
  fill(phonemes);
  return { rows, phonemeRows };
}

/**
 * μ [channels, phonemes] and log-durations [phonemes] with each phoneme taken from its
 * row of the encoder's batched outputs (μ [rows, channels, phonemes], [rows, phonemes]).
 */
export function pickRows(mu: Float32Array, logDurations: Float32Array, channels: number, phonemeRows: Int32Array): { mu: Float32Array; logDurations: Float32Array } {
  const n = phonemeRows.length;
  const outMu = new Float32Array(channels * n);
  const outLogD = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const row = phonemeRows[p]!;
    outLogD[p] = logDurations[row * n + p]!;
    for (let c = 0; c < channels; c++) outMu[c * n + p] = mu[(row * channels + c) * n + p]!;
  }
  return { mu: outMu, logDurations: outLogD };
}

/**
 * The phrase's course: `first` from frame 0, then each change from its anchor time,
 * moving from the mix in force there to its own over its rampMs, or over `transitionMs`
 * when that is longer and the change falls inside the phrase (at a phrase's first frame
 * there is nothing to join).
 */
export function emotionCourse(first: { from: Mix; ramp?: Ramp }, changes: readonly EmotionChange[], anchorMs: readonly number[], transitionMs: number): EmotionCourse {
  const course: CoursePiece[] = [{ atMs: 0, ...first }];
  changes.forEach((change, k) => {
    const atMs = anchorMs[k]!;
    const length = atMs > 0 ? Math.max(change.rampMs, transitionMs) : change.rampMs;
    course.push({ atMs, from: courseMixAt(course, atMs), ramp: { to: change.to, startMs: atMs, endMs: atMs + length } });
  });
  return course;
}
