// From per-phoneme log-durations to frames: rounding, μ expansion, padding, word times.
import type { WordSpan } from '../frontend/index.js';

/**
 * frames_n = exp(logd_n)·lengthScale rounded to the nearest integer (halves up), at least 1.
 * Grad-TTS takes the ceiling, which lengthens every phoneme by half a frame on average:
 * measured on the default voice, 6 % slower speech than the teacher's. The product is taken
 * in float32, as the recipe's numpy code does, and the fraction compared exactly, so that
 * values near a half round the same way on both sides.
 */
export function roundDurations(logDurations: Float32Array, lengthScale: number): Int32Array {
  const out = new Int32Array(logDurations.length);
  const scale = Math.fround(lengthScale);
  for (let n = 0; n < out.length; n++) {
    const v = Math.fround(Math.fround(Math.exp(logDurations[n]!)) * scale);
    const whole = Math.floor(v);
    out[n] = Math.max(1, whole + (v - whole >= 0.5 ? 1 : 0));
  }
  return out;
}

/** Real frames of the utterance: the sum of the durations, at least 1 (Grad-TTS's clamp). */
export function totalFrames(durations: Int32Array): number {
  return Math.max(1, durations.reduce((sum, d) => sum + d, 0));
}

/** The smallest multiple of `multiple` that holds `frames`. */
export function padFrames(frames: number, multiple: number): number {
  return Math.ceil(frames / multiple) * multiple;
}

/**
 * μ [channels, phonemes] repeated along time by the durations into [channels, frames];
 * frames past the durations' sum (padding, or the clamp's lone frame) stay 0.
 */
export function expandByDurations(mu: Float32Array, channels: number, durations: Int32Array, frames: number): Float32Array {
  const phonemes = durations.length;
  const out = new Float32Array(channels * frames);
  let frame = 0;
  for (let n = 0; n < phonemes && frame < frames; n++) {
    const end = Math.min(frames, frame + durations[n]!);
    for (let c = 0; c < channels; c++) out.fill(mu[c * phonemes + n]!, c * frames + frame, c * frames + end);
    frame = end;
  }
  return out;
}

/**
 * Where each frame sits inside its phoneme, for the frame decoder: [2, frames] with row 0
 * the relative position (j + ½)/d of frame j of a d-frame phoneme and row 1 ln(d)/4.
 * Frames past the durations' sum stay 0 (CONTRACT.md, "Frame decoder").
 */
export function phonePositions(durations: Int32Array, frames: number): Float32Array {
  const out = new Float32Array(2 * frames);
  let frame = 0;
  for (let n = 0; n < durations.length && frame < frames; n++) {
    const d = durations[n]!;
    const logD = Math.log(d) / 4;
    for (let j = 0; j < d && frame < frames; j++, frame++) {
      out[frame] = (j + 0.5) / d;
      out[frames + frame] = logD;
    }
  }
  return out;
}

/** 1 for the first `real` frames, 0 for the padding after them. */
export function frameMask(real: number, frames: number): Float32Array {
  return new Float32Array(frames).fill(1, 0, real);
}

export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
}

/** [phonemes + 1]: the frame at which each phoneme starts, then the end of the last. */
export function phonemeStartFrames(durations: Int32Array): Float64Array {
  const out = new Float64Array(durations.length + 1);
  for (let n = 0; n < durations.length; n++) out[n + 1] = out[n]! + durations[n]!;
  return out;
}

/** Time (ms) at the middle of each phoneme. */
export function phonemeMiddlesMs(durations: Int32Array, frameMs: number): Float64Array {
  const start = phonemeStartFrames(durations);
  return Float64Array.from(durations, (d, n) => (start[n]! + d / 2) * frameMs);
}

/** Word start and end times from where their phonemes fall in the frame sequence. */
export function wordTimings(words: readonly WordSpan[], durations: Int32Array, frameMs: number): WordTiming[] {
  const startFrame = phonemeStartFrames(durations);
  const at = (index: number) => startFrame[Math.max(0, Math.min(durations.length, index))]! * frameMs;
  return words.map(({ word, start, end }) => ({ word, startMs: at(start), endMs: at(end) }));
}
