// Encodes a session's audio for the wire format it asked for
// (src/protocol/audio.ts). The session hands over whole 20 ms frames at the
// encoder's input rate; each format has its own packets (docs/protocol.md, Audio).
import { FRAME_MS, type WireFormatName } from '../protocol/index.js';
import { floatToMulaw } from '../stream/mulaw.js';
import { opusInputRate, type OpusEncoderPool } from '../stream/opus.js';
import { floatToPcm16LE } from '../stream/pcm.js';

export interface WireEncoder {
  readonly format: WireFormatName;
  /** The rate the client decodes at (`ready.sampleRate`). */
  readonly sampleRate: number;
  /**
   * The rate of the PCM `encode` takes: `sampleRate`, but for Opus the lowest of its input
   * rates that holds the voice's band (24 kHz for a 22050 Hz voice; the client decodes at 48).
   */
  readonly pcmRate: number;
  /** Samples in one 20 ms frame at `pcmRate`. */
  readonly frameSamples: number;
  /** Opus only: decoder delay in 48 kHz samples (RFC 7845 pre-skip). */
  readonly preSkip?: number;
  /** Whole frames of mono float PCM at `pcmRate` → the packets of one `audio` message. */
  encode(pcm: Float32Array): Uint8Array[];
  /** The session is over: returns what the encoder holds to its pool. */
  release(): void;
}

/** An encoder for `format` at `sampleRate` (see wireSampleRate), for a voice speaking at `voiceRate`. */
export function createWireEncoder(format: WireFormatName, sampleRate: number, voiceRate: number, opus: OpusEncoderPool): WireEncoder {
  const frameSamples = (sampleRate * FRAME_MS) / 1000;
  switch (format) {
    case 'opus': {
      const encoder = opus.take(opusInputRate(voiceRate));
      return {
        format,
        sampleRate,
        pcmRate: encoder.sampleRate,
        frameSamples: encoder.frameSamples,
        preSkip: encoder.preSkip,
        encode: (pcm) => encoder.encode(pcm),
        release: () => opus.give(encoder),
      };
    }
    case 'pcm16':
      return { format, sampleRate, pcmRate: sampleRate, frameSamples, encode: (pcm) => [floatToPcm16LE(pcm)], release: () => {} };
    case 'mulaw':
      return {
        format,
        sampleRate,
        pcmRate: sampleRate,
        frameSamples,
        // One 160-byte packet per 20 ms frame, the unit telephony media streams carry.
        encode: (pcm) => {
          const bytes = floatToMulaw(pcm);
          const packets: Uint8Array[] = [];
          for (let i = 0; i < bytes.length; i += frameSamples) packets.push(bytes.subarray(i, i + frameSamples));
          return packets;
        },
        release: () => {},
      };
  }
}
