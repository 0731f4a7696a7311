// A reference recording (WAV bytes) → mono samples at the voice rate, with the limits that
// bound its cost: decoding is bounded by the bytes, resampling by REFERENCE_LIMITS, and
// clips whose samples are not finite are refused here rather than poisoning an embedding.
// Runs in an inference worker (the `reference` op), never on the main thread.
import { createPolyphaseResampler } from '../../stream/polyphase.js';
import { resample } from '../../stream/libsamplerate.js';
import { readWav, type WavAudio } from '../../stream/wav.js';
import { SynthesisError } from './errors.js';

export const REFERENCE_LIMITS = {
  /** Longest clip analysed; SER needs a few seconds, and resampling cost grows with length. */
  maxSeconds: 30,
  /** Sample rates accepted: telephone audio up to studio rates. */
  minSampleRate: 8000,
  maxSampleRate: 192_000,
  /**
   * Largest magnitude of a sample: full scale is ±1, float recordings may peak above it,
   * but ±3e38 overflows the mel's power and poisons the embedding.
   */
  maxPeak: 64,
} as const;

function checkLevel(samples: Float32Array): void {
  let peak = 0;
  for (const v of samples) {
    if (!Number.isFinite(v)) throw new SynthesisError('WAV_INVALID', 'the clip holds samples that are not finite numbers (NaN or infinity)');
    peak = Math.max(peak, Math.abs(v));
  }
  if (peak > REFERENCE_LIMITS.maxPeak) {
    throw new SynthesisError('WAV_INVALID', `the clip is too loud: it peaks at ${peak.toPrecision(3)}, references must stay within ±${REFERENCE_LIMITS.maxPeak} (full scale is ±1)`);
  }
}

async function decodeClip(wav: Uint8Array): Promise<WavAudio> {
  try {
    return await readWav(wav);
  } catch (err) {
    throw new SynthesisError('WAV_INVALID', (err as Error).message, { cause: (err as Error).cause ?? err });
  }
}

/** Decodes, checks and resamples a clip; throws SynthesisError('WAV_INVALID') with a message meant for the client. */
export async function referenceSamples(wav: Uint8Array, rate: number, minSamples: number): Promise<Float32Array> {
  const { samples, sampleRate } = await decodeClip(wav);
  const { maxSeconds, minSampleRate, maxSampleRate } = REFERENCE_LIMITS;
  if (sampleRate < minSampleRate || sampleRate > maxSampleRate) {
    throw new SynthesisError('WAV_INVALID', `the clip's sample rate is ${sampleRate} Hz; references must be ${minSampleRate}–${maxSampleRate} Hz`);
  }
  const seconds = samples.length / sampleRate;
  if (seconds > maxSeconds) {
    throw new SynthesisError('WAV_INVALID', `the clip is ${seconds.toFixed(1)} s long; references may be at most ${maxSeconds} s`);
  }
  checkLevel(samples);
  const wave = sampleRate === rate ? samples : await resampleClip(samples, sampleRate, rate);
  // Reflect padding needs more samples than it pads on each side.
  if (wave.length <= minSamples) {
    throw new SynthesisError('WAV_INVALID', `the clip is too short: ${wave.length} samples at ${rate} Hz, need more than ${minSamples}`);
  }
  return wave;
}

/**
 * The polyphase converter where the rate pair allows (every common rate: 16 → 22.05 kHz
 * is 441 phases), libsamplerate otherwise. libsamplerate's sinc interpolation spent about
 * 2 s of a worker on a 30 s clip, which the other sessions' phrases then waited for.
 */
async function resampleClip(samples: Float32Array, from: number, to: number): Promise<Float32Array> {
  let resampler;
  try {
    resampler = createPolyphaseResampler(from, to);
  } catch {
    return resample(samples, from, to);
  }
  return resampler.process(samples);
}

/** Refuses an embedding with a value that is not finite (a clip of extreme but finite samples overflows the mel). */
export function checkEmbedding(embedding: Float32Array): Float32Array {
  if (!embedding.every(Number.isFinite)) throw new SynthesisError('WAV_INVALID', 'the clip cannot be analysed: its features overflow');
  return embedding;
}
