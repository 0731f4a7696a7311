/**
 * Sample-rate conversion with libsamplerate (BSD-2; wasm build via
 * @alexanderolsen/libsamplerate-js, MIT), best-quality sinc converter, for any
 * rate pair. The server converts with polyphase.ts, ten times cheaper; this
 * one takes the reference clips whose rate pair needs more filter phases than
 * polyphase.ts tabulates, and is the tests' yardstick. Same contract as every
 * Resampler (resampler.ts).
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { checkSampleRate, resamplerOf, type Resampler } from './resampler.js';

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

/** One-shot, high-quality conversion (a converter made and freed for the call). */
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
