// One phrase from text to PCM at the rate its consumer takes (the wire's encoder, a
// file's): the runtime's synthesis, with the phrase's emotion changes placed at their words,
// converted from the voice's rate by the engine's workers. Shared by WebSocket sessions
// and the HTTP speech routes.
import { wordEndAt, wordsBefore } from '../pipeline/frontend/index.js';
import { DEFAULT_TRANSITION_MS, emotionCourse, SynthesisError, type CheckedMix, type EmotionCourse, type SynthesisRequest } from '../pipeline/synthesis/index.js';
import type { EmotionChange, PhraseStart } from './emotion-timeline.js';
import type { TextMark } from './phrase-cutter.js';
import { type WordTiming, OUTPUT_SAMPLE_RATE } from '../protocol/index.js';
import { convertRate } from './output-rate.js';
import type { PhraseSynthesis, ServedVoice } from './voices.js';

/** One phrase's audio, with the timing of its words and the course of its emotion. */
export interface PhraseAudio {
  /** Mono float PCM at `sampleRate`. */
  pcm: Float32Array;
  sampleRate: number;
  /** Word times relative to the phrase start. */
  words: WordTiming[];
  /** The emotion over the phrase's time; piece k > 0 took over at word changeWords[k − 1]. */
  course: EmotionCourse;
  changeWords: number[];
  /** Wall time the runtime took, for the real-time factor. */
  synthesisMs: number;
  /** The runtime's stages, as far as it reports them. */
  stages?: PhraseSynthesis['timings'];
  /** Converting the phrase from the voice's rate. */
  resampleMs: number;
  /** Nothing in the text could be pronounced (another script, symbols only). */
  silent?: true;
}

/** 48 kHz samples (the unit of a session's timeline) → ms. */
export const samplesToMs = (samples: number): number => (samples * 1000) / OUTPUT_SAMPLE_RATE;

/** A phrase's length in ms. */
export const phraseMs = (audio: Pick<PhraseAudio, 'pcm' | 'sampleRate'>): number => (audio.pcm.length * 1000) / audio.sampleRate;

/** The phrase's changes by spoken word; of several before the same word the last wins. */
export function changesByWord(text: string, marks: readonly TextMark<EmotionChange>[]): { word: number; to: CheckedMix; rampMs: number }[] {
  const changes: { word: number; to: CheckedMix; rampMs: number }[] = [];
  // One front-end pass per word boundary, however many marks fall inside one word.
  const counted = new Map<number, number>();
  for (const { at, change } of marks) {
    const end = wordEndAt(text, at);
    let word = counted.get(end);
    if (word === undefined) counted.set(end, (word = wordsBefore(text, end)));
    if (changes.length > 0 && changes[changes.length - 1]!.word === word) changes.pop();
    changes.push({ word, to: change.mix, rampMs: change.rampMs });
  }
  return changes;
}

/**
 * The course of a phrase that produced no audio (nothing to pronounce, or its synthesis
 * failed): its changes all take over at its start, so the mix carries on as if it had been spoken.
 */
export function unspokenCourse(start: PhraseStart, text: string, marks: readonly TextMark<EmotionChange>[]): EmotionCourse {
  const changes = changesByWord(text, marks);
  return emotionCourse({ from: start.weights, ...(start.ramp ? { ramp: start.ramp } : {}) }, changes, changes.map(() => 0), DEFAULT_TRANSITION_MS);
}

export async function renderPhrase(
  voice: ServedVoice,
  text: string,
  marks: readonly TextMark<EmotionChange>[],
  start: PhraseStart,
  request: Omit<SynthesisRequest, 'weights' | 'ramp' | 'changes' | 'sampleRate'>,
  /** The rate the consumer takes. */
  sampleRate: number,
): Promise<PhraseAudio> {
  const changes = changesByWord(text, marks);
  const changeWords = changes.map((c) => c.word);
  let result;
  try {
    // The engine's workers convert the audio to the consumer's rate: off the event loop, which
    // every session's sockets, Opus and pacing share, and in one conversion from the voice's rate.
    result = await voice.engine.synthesize(text, { ...request, weights: start.weights, ...(start.ramp ? { ramp: start.ramp } : {}), changes, sampleRate });
  } catch (error) {
    // Text with nothing to pronounce (a lone "…") is a phrase of no audio, not a failure;
    // its changes still take over, at its (empty) start.
    if (error instanceof SynthesisError && error.code === 'TEXT_EMPTY') {
      return { pcm: new Float32Array(0), sampleRate, words: [], course: unspokenCourse(start, text, marks), changeWords, synthesisMs: 0, resampleMs: 0, silent: true };
    }
    throw error;
  }
  const resampling = performance.now();
  const pcm = await convertRate(result.audio, result.sampleRate ?? voice.info.sampleRate, sampleRate);
  return {
    pcm,
    sampleRate,
    words: result.words,
    course: result.emotion.course,
    changeWords,
    synthesisMs: result.timings.totalMs,
    stages: result.timings,
    resampleMs: performance.now() - resampling + (result.timings.resampleMs ?? 0),
  };
}
