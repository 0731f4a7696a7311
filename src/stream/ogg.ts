/**
 * Ogg Opus files (RFC 7845) from already-encoded Opus packets, muxed by
 * mediabunny (MPL-2.0), which writes the page structure, CRCs, granule
 * positions and the EOS page; we supply the OpusHead with the encoder's
 * pre-skip and the end trim.
 */
import { BufferTarget, EncodedAudioPacketSource, EncodedPacket, OggOutputFormat, Output } from 'mediabunny';
import { OPUS_SAMPLE_RATE, opusPacketSamples } from './opus.js';

export interface OggOpusOptions {
  /** Samples the decoder discards at the start: the encoder's lookahead (`OpusEncoder.preSkip`). */
  preSkip: number;
  /**
   * Length of the audio in 48 kHz samples (`OpusEncoder.sampleCount`); the
   * final granule position becomes preSkip + sampleCount, which tells players
   * to drop the padding at the end. Default: everything the packets decode to,
   * minus pre-skip.
   */
  sampleCount?: number;
  /** Informational original sample rate written in OpusHead (default 48000). */
  inputSampleRate?: number;
}

// Pages of at most a second keep a streamed file's latency and seek granularity
// bounded, as opusenc does by default.
const MAX_PAGE_SECONDS = 1;

/** Writes a complete mono Ogg Opus file. Throws RangeError when there are no packets or sampleCount does not fit them. */
export async function writeOggOpus(packets: readonly Uint8Array[], options: OggOpusOptions): Promise<Uint8Array> {
  const { preSkip } = options;
  if (packets.length === 0) throw new RangeError('An Ogg Opus file needs at least one audio packet');
  if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) {
    throw new RangeError(`pre-skip must be an integer from 0 to 65535, got ${preSkip}`);
  }
  const durations = packets.map(opusPacketSamples);
  const decoded = durations.reduce((sum, d) => sum + d, 0);
  const end = preSkip + (options.sampleCount ?? decoded - preSkip);
  const lastStart = decoded - (durations[durations.length - 1] as number);
  // End trimming can only shorten the final packet (RFC 7845 §4.4).
  if (!Number.isInteger(end) || end <= lastStart || end > decoded) {
    throw new RangeError(
      `sampleCount must end inside the final packet: pre-skip + sampleCount = ${end}, final packet spans (${lastStart}, ${decoded}]`,
    );
  }

  const target = new BufferTarget();
  const output = new Output({ format: new OggOutputFormat({ maximumPageDuration: MAX_PAGE_SECONDS }), target });
  const source = new EncodedAudioPacketSource('opus');
  output.addAudioTrack(source);
  await output.start();
  const decoderConfig = {
    codec: 'opus',
    numberOfChannels: 1,
    sampleRate: OPUS_SAMPLE_RATE,
    description: opusHead(preSkip, options.inputSampleRate ?? OPUS_SAMPLE_RATE),
  };
  let start = 0;
  for (let i = 0; i < packets.length; i++) {
    const duration = i === packets.length - 1 ? end - start : (durations[i] as number);
    const packet = new EncodedPacket(
      packets[i] as Uint8Array,
      'key',
      start / OPUS_SAMPLE_RATE,
      duration / OPUS_SAMPLE_RATE,
    );
    await source.add(packet, i === 0 ? { decoderConfig } : undefined);
    start += durations[i] as number;
  }
  await output.finalize();
  if (!target.buffer) throw new Error('mediabunny produced no Ogg output');
  return new Uint8Array(target.buffer);
}

/** The OpusHead identification header (RFC 7845 §5.1) for mono, channel mapping family 0. */
function opusHead(preSkip: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'));
  head[8] = 1; // version
  head[9] = 1; // channels
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputSampleRate, true);
  view.setInt16(16, 0, true); // output gain
  head[18] = 0; // mapping family
  return head;
}
