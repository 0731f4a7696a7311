/**
 * Sample-rate conversion with libsamplerate (BSD-2; wasm build via
 * @alexanderolsen/libsamplerate-js, MIT), best-quality sinc converter.
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
import libsamplerate from '@alexanderolsen/libsamplerate-js';

const { create, ConverterType } = libsamplerate;
type Converter = Awaited<ReturnType<typeof create>>;

// The wrapper's transfer buffers hold this many samples; it splits larger
// inputs into chunks itself but never flushes the converter between them,
// which delays and truncates the output. We never hand it more than this.
const WASM_BUFFER_SAMPLES = 1_008_000;
// Chunk size for long inputs through the streaming (full) API; 2^16 · 6
// (8 kHz → 48 kHz) still fits the buffer.
const LONG_CHUNK = 65_536;
const MAX_RATIO = 256; // libsamplerate's limit, both ways

export interface Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /**
   * Converts one independent piece of audio (a phrase, a clip) whole, as
   * `resample` does; calls share no state, so one Resampler may serve many
   * streams at once.
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
 * Creates a converter for one rate pair. Each holds its own wasm instance
 * (about 26 MB), so create one per rate pair and share it rather than one per
 * stream.
 */
export async function createResampler(fromRate: number, toRate: number): Promise<Resampler> {
  checkRates(fromRate, toRate);
  const ratio = toRate / fromRate;
  const converter = fromRate === toRate ? undefined : await newConverter(fromRate, toRate);
  // The simple API stops short of n · ratio by up to a sample; trailing zeros let it reach the rounded length.
  const padding = Math.ceil(2 / ratio) + 2;
  return resamplerOf(
    fromRate,
    toRate,
    (input, length) => {
      if (!converter) return input.slice();
      if (input.length === 0) return new Float32Array(0);
      const padded = input.length + padding;
      if (Math.max(padded, Math.ceil(padded * ratio)) <= WASM_BUFFER_SAMPLES) {
        const withZeros = new Float32Array(padded);
        withZeros.set(input);
        // src_simple builds a fresh converter state per call, so sharing `converter` is safe.
        return converter.simple(withZeros).slice(0, length);
      }
      return convertLong(input, length, fromRate, toRate);
    },
    () => converter?.destroy(),
  );
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

/** One-shot, high-quality conversion; see the length contract above. */
export async function resample(input: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  const resampler = await createResampler(fromRate, toRate);
  try {
    return await resampler.process(input);
  } finally {
    resampler.close();
  }
}

function checkRates(fromRate: number, toRate: number): void {
  checkSampleRate(fromRate);
  checkSampleRate(toRate);
  if (toRate / fromRate > MAX_RATIO || fromRate / toRate > MAX_RATIO) {
    throw new RangeError(`Rate ratio ${fromRate} → ${toRate} is beyond libsamplerate's 1:${MAX_RATIO}`);
  }
}

function newConverter(fromRate: number, toRate: number): Promise<Converter> {
  return create(1, fromRate, toRate, { converterType: ConverterType.SRC_SINC_BEST_QUALITY });
}

/**
 * Inputs beyond the wasm buffer go through the streaming API of a converter of
 * their own (its state must start fresh). That API withholds the filter's
 * lookahead, so zeros are fed until the output reaches `length`; its output
 * equals the simple API's sample for sample.
 */
async function convertLong(input: Float32Array, length: number, fromRate: number, toRate: number): Promise<Float32Array> {
  const converter = await newConverter(fromRate, toRate);
  try {
    const out = new Float32Array(length);
    let written = 0;
    const feed = (chunk: Float32Array) => {
      const produced = converter.full(chunk);
      out.set(produced.subarray(0, length - written), written);
      written = Math.min(length, written + produced.length);
    };
    for (let i = 0; i < input.length; i += LONG_CHUNK) feed(input.subarray(i, i + LONG_CHUNK));
    const zeros = new Float32Array(LONG_CHUNK);
    while (written < length) feed(zeros);
    return out;
  } finally {
    converter.destroy();
  }
}
