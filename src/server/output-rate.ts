// Audio that reaches the server at a rate other than the one its consumer takes: an
// engine that does not convert its audio itself (a test's fake voice). The engine's
// workers convert the voice's own audio, from its rate straight to the consumer's.
import { createPolyphaseResampler } from '../stream/polyphase.js';
import type { Resampler } from '../stream/resampler.js';

/** One converter per rate pair, shared: conversions keep no state between calls. */
const resamplers = new Map<string, Resampler>();

/** `pcm` at `fromRate` → at `toRate` (the same array when they are equal). */
export function convertRate(pcm: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> | Float32Array {
  if (fromRate === toRate) return pcm;
  const key = `${fromRate}>${toRate}`;
  let resampler = resamplers.get(key);
  if (!resampler) resamplers.set(key, (resampler = createPolyphaseResampler(fromRate, toRate)));
  return resampler.process(pcm);
}
