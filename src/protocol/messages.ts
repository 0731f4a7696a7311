// Protocol v1 message shapes. Client messages are validated here, at the
// boundary, so the session only ever sees well-typed values; field names and
// ranges are documented in docs/protocol.md.
import { z } from 'zod';
import { WIRE_FORMATS, type WireFormatName } from './audio.js';
import { ErrorCode, ProtocolError } from './errors.js';

export const PROTOCOL_VERSION = 1;

const name = z.string().min(1).max(64);
export const MIN_TEMPERATURE = 0.1;

/** Emotion name → weight: finite, non-negative, not all zero, with a finite sum; scaled to sum 1 by the server. */
export const weightsSchema = z
  .record(name, z.number().nonnegative())
  .refine((w) => Object.keys(w).length <= 64, 'at most 64 emotions')
  .refine((w) => Object.values(w).some((v) => v > 0), 'at least one weight must be positive')
  // {a: 1e308, b: 1e308}: each weight is finite, their sum is not, and scaling them to sum 1 would zero them all.
  .refine((w) => Number.isFinite(Object.values(w).reduce((sum, v) => sum + v, 0)), 'the weights must sum to a finite number');
export type EmotionWeights = Record<string, number>;

/** Synthesis options shared by the WebSocket `start` and `POST /v1/speech`. */
export const synthesisOptionsSchema = z.object({
  voice: z.string().min(1).max(128).optional(),
  speaker: z.string().min(1).max(128).optional(),
  emotion: weightsSchema.optional(),
  steps: z.number().int().min(1).max(1000).optional(),
  // Below MIN_TEMPERATURE the initial noise (scaled by 1/temperature) swamps the sampler
  // and the voice comes out as silence or noise; 1e-300 overflowed to silence.
  temperature: z.number().min(MIN_TEMPERATURE).max(10).optional(),
  speed: z.number().min(0.25).max(4).optional(),
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
});
export type SynthesisOptions = z.infer<typeof synthesisOptionsSchema>;

const clientSchemas = {
  start: synthesisOptionsSchema.extend({
    type: z.literal('start'),
    format: z.enum(WIRE_FORMATS).optional(),
    /** pcm16 only (8000, 16000, 24000 or 48000); checked with the format when the session starts. */
    sampleRate: z.number().int().positive().optional(),
    pacing: z.enum(['asap', 'realtime']).optional(),
    markup: z.boolean().optional(),
    /** Report where each phrase's time went, in `done.stats.phraseTimings`. */
    timings: z.boolean().optional(),
  }),
  text: z.object({ type: z.literal('text'), text: z.string() }),
  emotion: z.object({
    type: z.literal('emotion'),
    weights: weightsSchema,
    rampMs: z.number().min(0).max(600_000).optional(),
  }),
  flush: z.object({ type: z.literal('flush') }),
  cancel: z.object({ type: z.literal('cancel') }),
  end: z.object({ type: z.literal('end') }),
  reference: z.object({
    type: z.literal('reference'),
    // `__proto__` cannot be a key of the weights maps that would name it.
    name: name.regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').refine((n) => n !== '__proto__', '"__proto__" cannot name an emotion'),
    audio: z.instanceof(Uint8Array),
  }),
};

export type StartMessage = z.infer<typeof clientSchemas.start>;
export type TextMessage = z.infer<typeof clientSchemas.text>;
export type EmotionMessage = z.infer<typeof clientSchemas.emotion>;
export type ReferenceMessage = z.infer<typeof clientSchemas.reference>;
export type ClientMessage = { [K in keyof typeof clientSchemas]: z.infer<(typeof clientSchemas)[K]> }[keyof typeof clientSchemas];
export type ClientMessageType = ClientMessage['type'];

const isWeightsField = (path: readonly PropertyKey[]): boolean => path[0] === 'emotion' || path[0] === 'weights';

/**
 * A client's string as quoted back in errors (and logs): a map key or a type
 * can be as long as a whole message, and echoing it would double the traffic.
 */
const clip = (s: string, max = 64): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** Turns a zod failure into the protocol's error: weights get their own code, the rest name the field. */
export function toProtocolError(error: z.ZodError): ProtocolError {
  const issue = error.issues[0]!;
  const field = issue.path.map((key) => clip(String(key))).join('.');
  const code = isWeightsField(issue.path) ? ErrorCode.invalidWeights : ErrorCode.invalidField;
  return new ProtocolError(code, `${field || 'message'}: ${issue.message}`, field || undefined);
}

/** Validates one decoded value as a client message; throws ProtocolError. */
export function parseClientMessage(value: unknown): ClientMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ProtocolError(ErrorCode.badMessage, 'a message must be a MessagePack map');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(clientSchemas, type)) {
    // Only a string is quoted: JSON.stringify would echo a map or an array whole.
    const shown = typeof type === 'string' ? JSON.stringify(clip(type)) : type === null || type === undefined ? String(type) : `(a ${typeof type})`;
    throw new ProtocolError(ErrorCode.unknownType, `unknown message type ${shown}`, 'type');
  }
  const parsed = clientSchemas[type as ClientMessageType].safeParse(value);
  if (!parsed.success) throw toProtocolError(parsed.error);
  return parsed.data;
}

// Server → client.

export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
}

export interface PhraseRamp {
  to: EmotionWeights;
  startMs: number;
  endMs: number;
}

/** Where one mix of a phrase takes over: at word `word` (an index into the phrase's words). */
export interface PhraseSegment {
  word: number;
  startMs: number;
  emotion: EmotionWeights;
  ramp?: PhraseRamp;
}

export interface SessionStats {
  phrases: number;
  failedPhrases: number;
  cancelledPhrases: number;
  audioMs: number;
  packets: number;
  synthesisMs: number;
  realTimeFactor: number;
  firstAudioMs: number | null;
  /** With `start.timings`: one entry per phrase spoken, in order. */
  phraseTimings?: PhraseTimings[];
}

/**
 * Where one spoken phrase's time went on the server, in ms (docs/protocol.md, `done`).
 * The stages of synthesis are absent when the engine does not report them.
 */
export interface PhraseTimings {
  phrase: number;
  /** From being cut from the text to its synthesis starting: waiting behind the phrases before it. */
  queuedMs: number;
  synthesisMs: number;
  frontendMs?: number;
  encoderMs?: number;
  decoderMs?: number;
  /** One per estimator call. */
  estimatorMs?: number[];
  vocoderMs?: number;
  /** The synthesis's calls to the inference workers: waiting for a free worker, computing there (onnxruntime, audio conversion), and passing between the threads. */
  workerQueuedMs?: number;
  workerMs?: number;
  messagingMs?: number;
  /** From the voice's rate to the wire's. */
  resampleMs: number;
  /** From synthesized to its delivery starting: waiting behind the phrase before it. */
  heldMs: number;
  /** Encoding its audio messages (Opus, μ-law, PCM). */
  encodeMs: number;
  /** From its delivery starting to its last audio message written to the socket (pacing and backpressure included). */
  deliveryMs: number;
}

export type ServerMessage =
  | {
      type: 'ready';
      protocol: number;
      session: string;
      /** The server instance that holds the session (EMOMIX_INSTANCE_ID). */
      instance: string;
      voice: string;
      speaker: string;
      emotions: string[];
      neutral: string;
      sampleRate: number;
      frameMs: number;
      format: WireFormatName;
      steps: number;
      pacing: 'asap' | 'realtime';
      /** Opus only: samples of encoder delay at the start of the decoded stream (RFC 7845 pre-skip). */
      preSkip?: number;
      limits: { maxMessageBytes: number; maxBufferedText: number; maxSteps: number };
    }
  | {
      type: 'phrase';
      id: number;
      text: string;
      startMs: number;
      durationMs: number;
      words: (WordTiming & { emotion: EmotionWeights })[];
      emotion: EmotionWeights;
      ramp?: PhraseRamp;
      segments: PhraseSegment[];
      /** The phrase had nothing the voice can pronounce (another script, symbols only): no audio. */
      silent?: true;
    }
  | { type: 'audio'; phrase: number; seq: number; packets: Uint8Array[] }
  | { type: 'flushed' }
  | { type: 'cancelled'; phrases: number[]; text: string }
  | { type: 'emotionAdded'; name: string }
  | { type: 'done'; stats: SessionStats }
  | { type: 'error'; code: string; message: string; fatal: boolean; field?: string; phrase?: number; text?: string };
