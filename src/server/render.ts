// One phrase from text to 48 kHz PCM: the runtime's synthesis, then the
// voice's resampler. Shared by WebSocket sessions and POST /v1/speech.
import { SynthesisError, type SynthesisRequest } from '../pipeline/synthesis/index.js';
import type { WordTiming } from './protocol.js';
import { OUTPUT_SAMPLE_RATE } from './protocol.js';
import type { ServedVoice } from './voices.js';

export interface RenderedPhrase {
  /** Mono float PCM at 48 kHz. */
  pcm: Float32Array;
  /** Word times relative to the phrase start. */
  words: WordTiming[];
  /** Wall time the runtime took, for the real-time factor. */
  synthesisMs: number;
}

export const samplesToMs = (samples: number): number => (samples * 1000) / OUTPUT_SAMPLE_RATE;

export async function renderPhrase(voice: ServedVoice, text: string, request: SynthesisRequest): Promise<RenderedPhrase> {
  let result;
  try {
    result = await voice.engine.synthesize(text, request);
  } catch (error) {
    // Text with nothing to pronounce (a lone "…") is a phrase of no audio, not a failure.
    if (error instanceof SynthesisError && error.code === 'TEXT_EMPTY') return { pcm: new Float32Array(0), words: [], synthesisMs: 0 };
    throw error;
  }
  return { pcm: await voice.resampler.process(result.audio), words: result.words, synthesisMs: result.timings.totalMs };
}
