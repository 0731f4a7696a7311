// Turns a request's emotion weights into mixes (weights scaled to sum 1) and per-frame weights.
// Pure; every refusal is a SynthesisError naming the offending entry.
import type { EmotionTable } from './custom-emotions.js';
import { SynthesisError } from './errors.js';

/** Emotion name → weight; the weights are positive and sum to 1. */
export type Mix = ReadonlyMap<string, number>;

/**
 * A mix checked where it entered (a protocol message, a markup tag, an HTTP body: its
 * names known, its weights finite and ≥ 0 with one > 0, their sum finite) and scaled to sum 1:
 * the runtime takes it as it is, without checking it again for every phrase that carries it.
 */
export class CheckedMix extends Map<string, number> {}

/** Weights (already checked) scaled to sum 1, zeros dropped, so that equal mixes compare equal. */
export function checkedMix(weights: Readonly<Record<string, number>> | Mix): CheckedMix {
  const entries = weights instanceof Map ? [...weights] : Object.entries(weights);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return new CheckedMix(entries.filter(([, w]) => w > 0).map(([name, w]) => [name, w / total]));
}

/** Checks weights against the emotions a request may name, then scales them to sum 1. */
export function mixFromWeights(weights: Record<string, number>, table: EmotionTable, field = 'weights'): Mix {
  const entries = Object.entries(weights ?? {});
  for (const [name, weight] of entries) {
    if (!table.has(name)) {
      throw new SynthesisError('EMOTION_UNKNOWN', `${field}: unknown emotion "${name}" (known: ${[...table.keys()].join(', ')})`);
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new SynthesisError('WEIGHT_INVALID', `${field}.${name}: a weight must be a finite number ≥ 0, got ${String(weight)}`);
    }
  }
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  if (!(total > 0)) throw new SynthesisError('WEIGHT_INVALID', `${field}: at least one weight must be greater than 0`);
  // Each weight finite but their sum not ({a: 1e308, b: 1e308}): every share would be 0.
  if (!Number.isFinite(total)) throw new SynthesisError('WEIGHT_INVALID', `${field}: the weights must sum to a finite number`);
  return checkedMix(weights);
}

/** (1 − α)·neutral + α·mix: α = 0 is plain neutral speech, α = 1 the mix as asked. */
export function withIntensity(mix: Mix, neutral: string, intensity: number): Mix {
  if (intensity === 1) return mix;
  const out = new Map<string, number>();
  for (const [name, w] of mix) out.set(name, intensity * w);
  out.set(neutral, (out.get(neutral) ?? 0) + (1 - intensity));
  for (const [name, w] of out) if (w === 0) out.delete(name);
  return out;
}

export interface Ramp {
  to: Mix;
  startMs: number;
  endMs: number;
}

/** Per-frame weights: row k holds the weight of names[k] at every frame. */
export interface FrameWeights {
  names: string[];
  frames: number;
  data: Float64Array;
}

/**
 * One stretch of a phrase's emotion: from `atMs` (phrase time) until the next piece
 * takes over, the mix is `from`, moving linearly to `ramp.to` over [ramp.startMs,
 * ramp.endMs] (a ramp may have begun before the phrase did) and `ramp.to` after it.
 */
export interface CoursePiece {
  atMs: number;
  from: Mix;
  ramp?: Ramp;
}

/** A phrase's emotion over its time: pieces in order of `atMs`, the first at 0. */
export type EmotionCourse = readonly CoursePiece[];

/** The mix of one piece at phrase time `timeMs`. */
export function pieceMixAt(piece: CoursePiece, timeMs: number): Mix {
  const { from, ramp } = piece;
  return ramp ? lerpMix(from, ramp.to, rampProgress(timeMs, ramp)) : from;
}

/** The mix a fraction `t` of the way from `from` to `to`, per name (a missing name counting 0). */
export function lerpMix(from: Mix, to: Mix, t: number): Mix {
  const out = new Map<string, number>();
  for (const name of new Set([...from.keys(), ...to.keys()])) {
    const a = from.get(name) ?? 0;
    const w = a + ((to.get(name) ?? 0) - a) * t;
    if (w > 0) out.set(name, w);
  }
  return out;
}

/** The piece in force at phrase time `timeMs` (a later piece anchored at the same time wins). */
export function pieceAt(course: EmotionCourse, timeMs: number): CoursePiece {
  let k = 0;
  while (k + 1 < course.length && course[k + 1]!.atMs <= timeMs) k++;
  return course[k]!;
}

export function courseMixAt(course: EmotionCourse, timeMs: number): Mix {
  return pieceMixAt(pieceAt(course, timeMs), timeMs);
}

/** Weights of each frame along the course (frame f starts at f·frameMs). */
export function frameWeights(course: EmotionCourse, frames: number, frameMs: number): FrameWeights {
  const mixes = Array.from({ length: frames }, (_, f) => courseMixAt(course, f * frameMs));
  const names = [...new Set(mixes.flatMap((mix) => [...mix.keys()]))];
  // Names with no weight in any frame (a ramp that ended before the phrase) would cost an
  // estimator row each for nothing; mixes keep only positive weights, so none is listed.
  const data = new Float64Array(names.length * frames);
  names.forEach((name, k) => mixes.forEach((mix, f) => (data[k * frames + f] = mix.get(name) ?? 0)));
  return { names, frames, data };
}

/** How far along its ramp the mix is at `timeMs`: 0 up to its start, 1 from its end. */
export function rampProgress(timeMs: number, ramp: Ramp): number {
  if (timeMs >= ramp.endMs) return 1;
  if (timeMs <= ramp.startMs) return 0;
  return (timeMs - ramp.startMs) / (ramp.endMs - ramp.startMs);
}

/** Whether two mixes hold the same names with the same weights. */
export function sameMix(a: Mix, b: Mix): boolean {
  return a.size === b.size && [...a].every(([name, w]) => b.get(name) === w);
}

/** The weights of one frame as a mix (zero weights dropped). */
export function mixAtFrame(weights: FrameWeights, frame: number): Mix {
  const out = new Map<string, number>();
  weights.names.forEach((name, k) => {
    const w = weights.data[k * weights.frames + frame]!;
    if (w > 0) out.set(name, w);
  });
  return out;
}

/** Each name's weight averaged over the first `frames` frames. */
export function averageMix(weights: FrameWeights, frames: number): Mix {
  const out = new Map<string, number>();
  weights.names.forEach((name, k) => {
    let sum = 0;
    for (let f = 0; f < frames; f++) sum += weights.data[k * weights.frames + f]!;
    if (sum > 0) out.set(name, sum / frames);
  });
  return out;
}

/** Σ w·embedding over a mix, computed in float64. */
export function mixEmbedding(mix: Mix, table: EmotionTable, dim: number): Float32Array {
  const acc = new Float64Array(dim);
  for (const [name, w] of mix) {
    const e = table.get(name)!;
    for (let i = 0; i < dim; i++) acc[i]! += w * e[i]!;
  }
  return Float32Array.from(acc);
}

/** The mixed embedding of every frame, [dim, frames]: how an emotion ramp reaches the frame decoder. */
export function frameEmbeddings(weights: FrameWeights, table: EmotionTable, dim: number): Float32Array {
  const { frames } = weights;
  const acc = new Float64Array(dim * frames);
  weights.names.forEach((name, k) => {
    const e = table.get(name)!;
    for (let i = 0; i < dim; i++) {
      for (let f = 0; f < frames; f++) acc[i * frames + f]! += weights.data[k * frames + f]! * e[i]!;
    }
  });
  return Float32Array.from(acc);
}
