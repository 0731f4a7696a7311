// The synthesis settings every route takes (the WebSocket `start`, POST /v1/speech,
// POST /v1/audio/speech), checked here once against the voice and the server's
// limits, and the synthesis request each phrase is made with.
import { checkedMix, type CheckedMix, type SynthesisRequest } from '../pipeline/synthesis/index.js';
import { ErrorCode, ProtocolError } from '../protocol/index.js';
import type { EmotionWeights, SynthesisOptions } from '../protocol/index.js';
import { resolveSpeaker, type ServedVoice } from './voices.js';

export interface SpeechSettings {
  voice: ServedVoice;
  speaker: string;
  steps: number;
  temperature: number | undefined;
  lengthScale: number | undefined;
  seed: number | undefined;
  /** The starting mix as asked for (the voice's neutral by default). */
  emotion: EmotionWeights;
  /** The same, normalised: what `[/emotion]` returns to. */
  base: CheckedMix;
}

/** A phrase's synthesis request, but for its emotion (the timeline's). */
export type PhraseRequest = Omit<SynthesisRequest, 'weights' | 'ramp' | 'changes'>;

/** The settings of `options` for `voice` (already resolved: each route names voices its own way). */
export function speechSettings(voice: ServedVoice, options: Omit<SynthesisOptions, 'voice'>, maxSteps: number): SpeechSettings {
  if (options.steps !== undefined && options.steps > maxSteps) {
    throw new ProtocolError(ErrorCode.invalidField, `steps: at most ${maxSteps} on this server`, 'steps');
  }
  const emotion = options.emotion ?? { [voice.info.neutral]: 1 };
  checkEmotions(emotion, voice.info.emotions, 'emotion');
  return {
    voice,
    speaker: resolveSpeaker(voice, options.speaker),
    steps: options.steps ?? voice.info.steps,
    temperature: options.temperature,
    lengthScale: options.speed === undefined ? undefined : 1 / options.speed,
    seed: options.seed,
    emotion,
    base: checkedMix(emotion),
  };
}

/** Refuses weights naming an emotion not in `known` (unknown_emotion, on `field`). */
export function checkEmotions(weights: EmotionWeights, known: readonly string[], field: string): void {
  const unknown = Object.keys(weights).find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new ProtocolError(ErrorCode.unknownEmotion, `${field}: unknown emotion "${unknown}" (known: ${known.join(', ')})`, field);
  }
}

/**
 * The request of the `n`th phrase (from 1) of a stream or a text. Each phrase gets its own
 * noise, reproducibly: seed + n.
 */
export function phraseRequest(
  settings: SpeechSettings,
  n: number,
  when: { deadline: number; signal: AbortSignal; customEmotions?: Record<string, Float32Array> },
): PhraseRequest {
  const { speaker, steps, temperature, lengthScale, seed } = settings;
  return {
    speaker,
    steps,
    ...(temperature !== undefined ? { temperature } : {}),
    ...(lengthScale !== undefined ? { lengthScale } : {}),
    ...(seed !== undefined ? { seed: (seed + n) % 2 ** 32 } : {}),
    ...when,
  };
}
