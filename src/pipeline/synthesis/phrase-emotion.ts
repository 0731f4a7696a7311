// Emotion changes inside one phrase: where each lands in the phonemes and frames, the
// encoder rows that condition each phoneme (ramps in bounded steps), and the per-frame
// course the frame decoder and the estimator follow. Pure.
import type { WordSpan } from '../frontend/index.js';
import { courseMixAt, lerpMix, rampProgress, sameMix, type CoursePiece, type EmotionCourse, type Mix, type Ramp } from './emotion-mix.js';
import type { EmotionChange } from './request.js';
import type { EncodeResult } from './worker-protocol.js';

/**
 * The phoneme at which each change takes over: where the word before its word ends (so
 * the pause between them is already in the new mix), 0 for word 0, and past the last
 * word for an index beyond the phrase's words.
 */
export function anchorPhonemes(changes: readonly EmotionChange[], words: readonly WordSpan[], phonemes: number): number[] {
  return changes.map(({ word }) => (word === 0 ? 0 : word > words.length ? phonemes : words[word - 1]!.end));
}

/**
 * A ramp reaches the encoder and duration predictor in steps: at most this many mixes
 * strictly between its two ends (each a batch row), a phoneme taking the step nearest to
 * the ramp's value at its middle. Four steps of a full happy → sad ramp are 0.2 apart.
 */
export const RAMP_LEVELS = 4;

/**
 * The most mixes the phonemes of one phrase are encoded with, whatever the changes and
 * ramps in it (each row costs a full encoder pass over the phrase: 6 ms on the default
 * voice, docs/benchmarks.md). Two ramps with their ends fit whole (2 × (RAMP_LEVELS + 1) + 1).
 * With the first call's rows (the step mixes, themselves capped) a phrase costs at most
 * twice this many encoder rows.
 */
export const MAX_ENCODER_ROWS = 12;

/** The mix one phoneme is conditioned on; `intermediate` when it is a step inside a ramp. */
export interface PhonemeMix {
  mix: Mix;
  intermediate: boolean;
}

/**
 * Before any duration is known: the phrase's first-frame mix up to the first change, then,
 * after a switch, the mix switched to; a ramped change keeps the mix before it. These
 * mixes give the durations from which rampMixes places each phoneme in time.
 */
export function stepMixes(first: Mix, changes: readonly EmotionChange[], anchors: readonly number[], phonemes: number): PhonemeMix[] {
  const out: PhonemeMix[] = [];
  let current = first;
  changes.forEach((change, k) => {
    while (out.length < Math.min(anchors[k]!, phonemes)) out.push({ mix: current, intermediate: false });
    if (change.rampMs === 0) current = change.to;
  });
  while (out.length < phonemes) out.push({ mix: current, intermediate: false });
  return out;
}

/**
 * Each phoneme on the piece of `course` its own word falls in (a change from its anchor
 * phoneme on, so the phonemes before keep the earlier mix exactly), at that piece's ramp
 * rounded to the nearest of RAMP_LEVELS + 2 evenly spaced steps (its two ends included,
 * each exact) at the phoneme's middle, `middlesMs[p]`. `course` holds the first piece and
 * then one per change, as emotionCourse builds it.
 */
export function rampMixes(course: EmotionCourse, anchors: readonly number[], middlesMs: ArrayLike<number>): PhonemeMix[] {
  const out: PhonemeMix[] = [];
  let piece = 0;
  for (let p = 0; p < middlesMs.length; p++) {
    while (piece < anchors.length && anchors[piece]! <= p) piece++;
    const { from, ramp } = course[piece]!;
    const level = ramp ? Math.round(rampProgress(middlesMs[p]!, ramp) * (RAMP_LEVELS + 1)) : 0;
    if (level === 0) out.push({ mix: from, intermediate: false });
    else if (level === RAMP_LEVELS + 1) out.push({ mix: ramp!.to, intermediate: false });
    else out.push({ mix: lerpMix(from, ramp!.to, level / (RAMP_LEVELS + 1)), intermediate: true });
  }
  return out;
}

export interface EncoderRows {
  /** One mix per encoder batch row, all distinct, in the order of the first phoneme taking each. */
  rows: Mix[];
  /** [phonemes] the row each phoneme takes its μ and duration from. */
  phonemeRows: Int32Array;
}

/**
 * One row per distinct mix, at most `maxRows`. Past that, the mixes that hold after a
 * switch or at a ramp's ends keep their rows first and the ramps' steps fill what is
 * left, each in order of their first phoneme; a phoneme whose mix got no row takes the
 * nearest row (least total weight moved), the earlier of two as near.
 */
export function encoderRows(mixes: readonly PhonemeMix[], maxRows = MAX_ENCODER_ROWS): EncoderRows {
  const distinct = new Map<string, PhonemeMix>();
  const keys = mixes.map(({ mix, intermediate }) => {
    const key = mixKey(mix);
    const seen = distinct.get(key);
    // A step that equals some piece's end is that end: it keeps its priority.
    distinct.set(key, { mix, intermediate: intermediate && (seen?.intermediate ?? true) });
    return key;
  });
  const all = [...distinct];
  const kept = new Set([...all.filter(([, m]) => !m.intermediate), ...all.filter(([, m]) => m.intermediate)].slice(0, maxRows).map(([key]) => key));
  const keptRows = all.filter(([key]) => kept.has(key));
  const rows = keptRows.map(([, m]) => m.mix);
  const rowOfKey = new Map(keptRows.map(([key], k) => [key, k]));
  for (const [key, { mix }] of all) if (!kept.has(key)) rowOfKey.set(key, nearestRow(mix, rows));
  return { rows, phonemeRows: Int32Array.from(keys, (key) => rowOfKey.get(key)!) };
}

/** The same key for mixes that sameMix calls equal, whatever the order of their names. */
function mixKey(mix: Mix): string {
  return JSON.stringify([...mix].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function nearestRow(mix: Mix, rows: readonly Mix[]): number {
  const distance = (row: Mix) => [...new Set([...mix.keys(), ...row.keys()])].reduce((sum, name) => sum + Math.abs((mix.get(name) ?? 0) - (row.get(name) ?? 0)), 0);
  let best = 0;
  rows.forEach((row, k) => {
    if (distance(row) < distance(rows[best]!)) best = k;
  });
  return best;
}

/** The mixes of `want` that `have` lacks, and where each of want's sits in have ++ missing. */
export function missingRows(have: readonly Mix[], want: readonly Mix[]): { missing: Mix[]; at: Int32Array } {
  const missing: Mix[] = [];
  const at = Int32Array.from(want, (mix) => {
    const k = have.findIndex((row) => sameMix(row, mix));
    return k >= 0 ? k : have.length + missing.push(mix) - 1;
  });
  return { missing, at };
}

/** Two encoder outputs as one, b's rows after a's. */
export function joinRows(a: EncodeResult, b: EncodeResult): EncodeResult {
  const join = (x: Float32Array, y: Float32Array) => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { mu: join(a.mu, b.mu), logDurations: join(a.logDurations, b.logDurations) };
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
