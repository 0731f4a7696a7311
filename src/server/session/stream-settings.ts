// What a session's `start` fixes, checked: the synthesis settings every route
// shares, plus the stream's own (audio format and rate, pacing, markup), and the
// `ready` message that confirms them.
import { FRAME_MS, PROTOCOL_VERSION, wireSampleRate, type ServerMessage, type StartMessage } from '../../protocol/index.js';
import type { OpusEncoderPool } from '../../stream/opus.js';
import { speechSettings, type SpeechSettings } from '../speech-settings.js';
import type { VoiceRegistry } from '../voices.js';
import { createWireEncoder, type WireEncoder } from '../wire-encoder.js';

export interface StreamSettings extends SpeechSettings {
  pacing: 'asap' | 'realtime';
  markup: boolean;
  /** Taken from the server's pool: the session gives it back when it closes. */
  encoder: WireEncoder;
}

export interface StreamLimits {
  maxBufferedText: number;
  maxMessageBytes: number;
  maxSteps: number;
  /** The pacing of a `start` that names none. */
  pacing: 'asap' | 'realtime';
}

/** The settings of `start`; throws ProtocolError for a field the voice or the server cannot serve. */
export function streamSettings(message: StartMessage, voices: Pick<VoiceRegistry, 'resolve'>, limits: StreamLimits, encoders: OpusEncoderPool): StreamSettings {
  const speech = speechSettings(voices.resolve(message.voice), message, limits.maxSteps);
  const format = message.format ?? 'opus';
  const sampleRate = wireSampleRate(format, message.sampleRate);
  return {
    ...speech,
    pacing: message.pacing ?? limits.pacing,
    markup: message.markup ?? false,
    encoder: createWireEncoder(format, sampleRate, speech.voice.info.sampleRate, encoders),
  };
}

export function readyMessage(settings: StreamSettings, where: { session: string; instance: string }, limits: StreamLimits): ServerMessage {
  const { voice, encoder } = settings;
  return {
    type: 'ready',
    protocol: PROTOCOL_VERSION,
    ...where,
    voice: voice.info.id,
    speaker: settings.speaker,
    emotions: voice.info.emotions,
    neutral: voice.info.neutral,
    sampleRate: encoder.sampleRate,
    frameMs: FRAME_MS,
    format: encoder.format,
    steps: settings.steps,
    pacing: settings.pacing,
    ...(encoder.preSkip !== undefined ? { preSkip: encoder.preSkip } : {}),
    limits: { maxMessageBytes: limits.maxMessageBytes, maxBufferedText: limits.maxBufferedText, maxSteps: limits.maxSteps },
  };
}
