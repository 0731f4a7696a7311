// The part of the emomix protocol v1 (docs/protocol.md in the server's
// repository) this plugin speaks: MessagePack maps over one WebSocket.
import { Packr } from 'msgpackr';

/** Emotion name → weight; the server normalises the weights to sum 1. */
export type Weights = Record<string, number>;

export interface SpokenWord {
  word: string;
  /** On the session timeline: milliseconds from the session's first audio. */
  startMs: number;
  endMs: number;
  /** The mix at the middle of the word, normalised. */
  emotion: Weights;
}

export type ClientMessage =
  | { type: 'start'; format: 'pcm16'; sampleRate?: number; voice?: string; emotion?: Weights; steps?: number; speed?: number; seed?: number }
  | { type: 'text'; text: string }
  | { type: 'emotion'; weights: Weights; rampMs?: number }
  | { type: 'flush' }
  | { type: 'cancel' }
  | { type: 'end' };

export interface ReadyMessage {
  type: 'ready';
  session: string;
  voice: string;
  emotions: string[];
  neutral: string;
  sampleRate: number;
  limits: { maxBufferedText: number };
}

export interface PhraseMessage {
  type: 'phrase';
  id: number;
  text: string;
  startMs: number;
  durationMs: number;
  words: SpokenWord[];
  emotion: Weights;
}

export interface AudioMessage {
  type: 'audio';
  phrase: number;
  seq: number;
  /** pcm16: one packet of 16-bit little-endian samples, a whole number of 20 ms frames. */
  packets: Uint8Array[];
}

export interface CancelledMessage {
  type: 'cancelled';
  phrases: number[];
  text: string;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  fatal: boolean;
  field?: string;
  phrase?: number;
  text?: string;
}

export interface DoneMessage {
  type: 'done';
  stats: { phrases: number; failedPhrases: number; cancelledPhrases: number; audioMs: number };
}

export type ServerMessage =
  | ReadyMessage
  | PhraseMessage
  | AudioMessage
  | CancelledMessage
  | ErrorMessage
  | DoneMessage
  | { type: 'flushed' }
  | { type: 'emotionAdded'; name: string };

// Plain maps both ways: the server refuses msgpackr's records and extensions.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Optional fields left undefined are omitted: msgpackr would write undefined as an extension type. */
export const encode = (message: ClientMessage): Buffer =>
  packr.pack(Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)));

/** The server's message, or undefined for a frame that is not a map with a `type` (ignored, as the protocol asks for unknown types). */
export function decode(data: Buffer): ServerMessage | undefined {
  const value: unknown = packr.unpack(data);
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return undefined;
  return value as ServerMessage;
}
