// How a session's audio goes on the wire (docs/protocol.md, Audio): 20 ms frames,
// timed on a 48 kHz session timeline; Opus decodes at 48 kHz, G.711 μ-law runs at
// 8 kHz (telephony), 16-bit PCM at any rate of PCM_SAMPLE_RATES.
import { ErrorCode, ProtocolError } from './errors.js';

export const OUTPUT_SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const MULAW_SAMPLE_RATE = 8000;

export const WIRE_FORMATS = ['opus', 'pcm16', 'mulaw'] as const;
export type WireFormatName = (typeof WIRE_FORMATS)[number];

/** The PCM rates a client may ask for; every one divides 48 kHz. */
export const PCM_SAMPLE_RATES = [8000, 16_000, 24_000, 48_000] as const;
export type PcmSampleRate = (typeof PCM_SAMPLE_RATES)[number];

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
