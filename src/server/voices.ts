// The voices a server speaks with: one engine (and its worker pool) per voice.
import { join } from 'node:path';
import {
  Engine,
  type Device,
  type EmotionCourse,
  type EngineOptions,
  type GraphOptimization,
  type Logger as EngineLogger,
  type SynthesisRequest,
  type SynthesisTimings,
  type WordTiming,
} from '../pipeline/synthesis/index.js';
import { ErrorCode, ProtocolError } from '../protocol/index.js';

export interface VoiceInfo {
  id: string;
  name: string;
  description: string;
  license: string;
  emotions: string[];
  /** The first is the default; each lists the emotions it was recorded in (all are available). */
  speakers: { id: string; name: string; emotions: string[] }[];
  neutral: string;
  sampleRate: number;
  steps: number;
  temperature: number;
  default: boolean;
}

/** What sessions and requests ask of a voice's engine: all that a test's fake voice implements. */
export interface VoiceEngine {
  synthesize(text: string, request: SynthesisRequest): Promise<PhraseSynthesis>;
  /** A reference clip (WAV bytes) → an emotion embedding its text may name. */
  embedReference(clip: Uint8Array): Promise<Float32Array>;
}

/** The part of a synthesis result that the server uses. */
export interface PhraseSynthesis {
  audio: Float32Array;
  /** The rate of `audio` when the engine took the request's `sampleRate`; absent: the voice's. */
  sampleRate?: number;
  words: WordTiming[];
  emotion: { course: EmotionCourse };
  /** The engine reports every stage; a test's fake voice may give the total alone. */
  timings: Pick<SynthesisTimings, 'totalMs'> & Partial<SynthesisTimings>;
}

export interface ServedVoice {
  info: VoiceInfo;
  engine: VoiceEngine;
}

export interface VoiceLoadOptions {
  modelsDir: string;
  defaultVoice: string;
  extraVoices?: string[];
  device?: Device;
  workers?: number | undefined;
  intraOpThreads?: number | undefined;
  graphOptimization?: GraphOptimization;
  batching?: 'auto' | 'on' | 'off';
  scheduling?: 'deadline' | 'arrival';
  cacheEntries?: number;
  logger?: EngineLogger;
  createWorker?: EngineOptions['createWorker'];
}

export class VoiceRegistry {
  private constructor(
    private readonly voices: Map<string, ServedVoice>,
    private readonly engines: Engine[],
    readonly defaultId: string,
  ) {}

  /** Loads the default voice and any extra ones; a voice that cannot be served fails start-up with the runtime's error. */
  static async load(options: VoiceLoadOptions): Promise<VoiceRegistry> {
    const ids = [...new Set([options.defaultVoice, ...(options.extraVoices ?? [])])];
    const voices = new Map<string, ServedVoice>();
    const engines: Engine[] = [];
    try {
      for (const id of ids) {
        const engine = await Engine.create({
          voiceDir: join(options.modelsDir, id),
          ...(options.device ? { device: options.device } : {}),
          ...(options.workers ? { workers: options.workers } : {}),
          ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
          ...(options.graphOptimization ? { graphOptimization: options.graphOptimization } : {}),
          ...(options.batching === 'on' || options.batching === 'off' ? { batching: options.batching === 'on' } : {}),
          ...(options.scheduling ? { scheduling: options.scheduling } : {}),
          ...(options.cacheEntries !== undefined ? { cacheEntries: options.cacheEntries } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
          ...(options.createWorker ? { createWorker: options.createWorker } : {}),
        });
        engines.push(engine);
        const v = engine.voice;
        voices.set(id, {
          engine,
          info: {
            id,
            name: v.name,
            description: v.description,
            license: v.license,
            emotions: v.emotions.map((e) => e.name),
            speakers: v.speakers.map((s) => ({ id: s.id, name: s.name, emotions: s.emotions.map((e) => e.name) })),
            neutral: v.neutral,
            sampleRate: v.audio.sampleRate,
            steps: v.diffusion.steps,
            temperature: v.diffusion.temperature,
            default: id === options.defaultVoice,
          },
        });
      }
    } catch (error) {
      await closeAll(engines);
      throw error;
    }
    return new VoiceRegistry(voices, engines, options.defaultVoice);
  }

  /** The voice with this id, or the default one when id is undefined. */
  get(id?: string): ServedVoice | undefined {
    return this.voices.get(id ?? this.defaultId);
  }

  /** Like `get`, but an unknown id is the protocol's `unknown_voice` error, naming the voices there are. */
  resolve(id?: string): ServedVoice {
    const voice = this.get(id);
    if (voice) return voice;
    throw new ProtocolError(ErrorCode.unknownVoice, `unknown voice "${String(id).slice(0, 128)}"; voices: ${[...this.voices.keys()].join(', ')}`, 'voice');
  }

  list(): VoiceInfo[] {
    return [...this.voices.values()].map((v) => v.info);
  }

  async close(): Promise<void> {
    await closeAll(this.engines);
    this.voices.clear();
  }
}

/** The speaker a request names, checked against the voice; the voice's first when it names none. */
export function resolveSpeaker(voice: ServedVoice, speaker: string | undefined): string {
  const known = voice.info.speakers;
  if (speaker === undefined) return known[0]!.id;
  if (!known.some((s) => s.id === speaker)) {
    throw new ProtocolError(ErrorCode.unknownSpeaker, `unknown speaker "${speaker}" (known: ${known.map((s) => s.id).join(', ')})`, 'speaker');
  }
  return speaker;
}

async function closeAll(engines: Engine[]): Promise<void> {
  await Promise.all(engines.map((engine) => engine.close()));
}
