// The server synthesizes at the wire's 48 kHz; formats at other rates (telephony's
// 8 kHz, OpenAI's 24 kHz) take each phrase down whole with the polyphase
// resampler: 48 kHz is an integer multiple of every rate offered, so each
// conversion is a single filter phase.
import { createPolyphaseResampler } from '../stream/polyphase.js';
import type { Resampler } from '../stream/resampler.js';
import { OUTPUT_SAMPLE_RATE } from '../protocol/index.js';

const resamplers = new Map<number, Resampler>();

/** One phrase of 48 kHz PCM at `rate` (the same array at 48 kHz). */
export function atRate(pcm: Float32Array, rate: number): Promise<Float32Array> | Float32Array {
  if (rate === OUTPUT_SAMPLE_RATE) return pcm;
  let resampler = resamplers.get(rate);
  if (!resampler) {
    resampler = createPolyphaseResampler(OUTPUT_SAMPLE_RATE, rate);
    resamplers.set(rate, resampler);
  }
  return resampler.process(pcm);
}
