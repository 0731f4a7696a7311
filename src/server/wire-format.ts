// How a session's audio goes on the wire: Opus at 48 kHz, 16-bit PCM at any
// rate of PCM_SAMPLE_RATES, or G.711 μ-law at 8 kHz (telephony). The session
// hands over whole 20 ms frames at the format's rate; each format has its own
// packets (docs/protocol.md, Audio).
import { MULAW_SAMPLE_RATE, floatToMulaw } from '../stream/mulaw.js';
import type { OpusEncoderPool } from '../stream/opus.js';
import { floatToPcm16LE } from '../stream/pcm.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { PCM_SAMPLE_RATES, type PcmSampleRate } from './output-rate.js';
import { FRAME_MS, OUTPUT_SAMPLE_RATE } from './protocol.js';

export type WireFormatName = 'opus' | 'pcm16' | 'mulaw';

export interface WireEncoder {
  readonly format: WireFormatName;
  readonly sampleRate: number;
  /** Samples in one 20 ms frame at `sampleRate`. */
  readonly frameSamples: number;
  /** Opus only: decoder delay in 48 kHz samples (RFC 7845 pre-skip). */
  readonly preSkip?: number;
  /** Whole frames of mono float PCM at `sampleRate` → the packets of one `audio` message. */
  encode(pcm: Float32Array): Uint8Array[];
  /** The session is over: returns what the encoder holds to its pool. */
  release(): void;
}

/** The rate a format runs at: its only one, or for pcm16 the one asked for (48 kHz by default). */
export function wireSampleRate(format: WireFormatName, requested: number | undefined): number {
  const fixed = format === 'opus' ? OUTPUT_SAMPLE_RATE : format === 'mulaw' ? MULAW_SAMPLE_RATE : undefined;
  if (fixed !== undefined) {
    if (requested !== undefined && requested !== fixed) {
      throw new ProtocolError(ErrorCode.invalidField, `sampleRate: ${format} is ${fixed} Hz only; other rates are offered for pcm16 (${PCM_SAMPLE_RATES.join(', ')})`, 'sampleRate');
    }
    return fixed;
  }
  const rate = requested ?? OUTPUT_SAMPLE_RATE;
  if (!(PCM_SAMPLE_RATES as readonly number[]).includes(rate)) {
    throw new ProtocolError(ErrorCode.invalidField, `sampleRate: one of ${PCM_SAMPLE_RATES.join(', ')}`, 'sampleRate');
  }
  return rate as PcmSampleRate;
}

export function createWireEncoder(format: WireFormatName, sampleRate: number, opus: OpusEncoderPool): WireEncoder {
  const frameSamples = (sampleRate * FRAME_MS) / 1000;
  switch (format) {
    case 'opus': {
      const encoder = opus.take();
      return { format, sampleRate, frameSamples, preSkip: encoder.preSkip, encode: (pcm) => encoder.encode(pcm), release: () => opus.give(encoder) };
    }
    case 'pcm16':
      return { format, sampleRate, frameSamples, encode: (pcm) => [floatToPcm16LE(pcm)], release: () => {} };
    case 'mulaw':
      return {
        format,
        sampleRate,
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
