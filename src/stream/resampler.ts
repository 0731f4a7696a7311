/**
 * What every sample-rate converter here offers (polyphase.ts, the server's;
 * libsamplerate.ts, for any rate pair).
 *
 * Length contract: converting n samples from `fromRate` to `toRate` returns
 * exactly `resampledLength(n, fromRate, toRate)` = Math.round(n · toRate / fromRate)
 * samples (halves round up), output sample k sitting at input time k · fromRate / toRate.
 * The signal is taken as silent outside the input, so the last samples are
 * interpolated against zeros.
 *
 * Phrase after phrase: each phrase's audio is independent, so the server
 * converts each one whole with a shared `Resampler` (one-shot per phrase, no
 * state between calls). Phrases that begin and end in near-silence, as
 * synthesized speech does, come out without edge clicks (test/stream-resample.test.ts
 * compares per-phrase conversion with converting the joined stream).
 */

export interface Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /**
   * Converts one independent piece of audio (a phrase, a clip) whole; calls
   * share no state, so one Resampler may serve many streams at once.
   */
  process(input: Float32Array): Promise<Float32Array>;
  /** Frees the converter; `process` rejects afterwards. */
  close(): void;
}

/** Output length for n input samples: Math.round(n · toRate / fromRate). */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.round((inputLength * toRate) / fromRate);
}

/**
 * A Resampler around `convert`, which turns one whole input into `length` samples;
 * `release` runs once, on the first close.
 */
export function resamplerOf(
  fromRate: number,
  toRate: number,
  convert: (input: Float32Array, length: number) => Float32Array | Promise<Float32Array>,
  release: () => void = () => undefined,
): Resampler {
  let closed = false;
  return {
    fromRate,
    toRate,
    async process(input) {
      if (closed) throw new Error('Resampler is closed');
      return convert(input, resampledLength(input.length, fromRate, toRate));
    },
    close() {
      if (!closed) release();
      closed = true;
    },
  };
}

/** Throws unless `rate` is a positive whole number of samples per second. */
export function checkSampleRate(rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`Sample rate must be a positive integer, got ${rate}`);
}
