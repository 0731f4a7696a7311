/**
 * Ogg Opus files (RFC 7845) from already-encoded Opus packets, muxed by
 * mediabunny (MPL-2.0), which writes the page structure, CRCs, granule
 * positions and the EOS page; we supply the OpusHead with the encoder's
 * pre-skip and the end trim.
 */
import { BufferTarget, EncodedAudioPacketSource, EncodedPacket, OggOutputFormat, Output, type Target } from 'mediabunny';
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

/**
 * Writes a mono Ogg Opus stream packet by packet, so a file can grow while
 * its audio arrives (pages reach the target once they are complete). The
 * latest packet is held back: only the final one may be end-trimmed, and
 * which one is final is known only at `finish`.
 */
export class OggOpusWriter {
  private held: Uint8Array | undefined;
  private heldSamples = 0;
  private written = 0;
  private decoded = 0;

  private constructor(
    private readonly output: Output,
    private readonly source: EncodedAudioPacketSource,
    private readonly preSkip: number,
    private readonly head: Uint8Array,
  ) {}

  /** Starts a stream on `target` (a mediabunny target: memory, a file, a WritableStream). Throws RangeError for a bad pre-skip. */
  static async open(target: Target, options: Omit<OggOpusOptions, 'sampleCount'>): Promise<OggOpusWriter> {
    const { preSkip } = options;
    if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) {
      throw new RangeError(`pre-skip must be an integer from 0 to 65535, got ${preSkip}`);
    }
    const output = new Output({ format: new OggOutputFormat({ maximumPageDuration: MAX_PAGE_SECONDS }), target });
    const source = new EncodedAudioPacketSource('opus');
    output.addAudioTrack(source);
    await output.start();
    return new OggOpusWriter(output, source, preSkip, opusHead(preSkip, options.inputSampleRate ?? OPUS_SAMPLE_RATE));
  }

  /** 48 kHz samples the packets added so far decode to, pre-skip included. */
  get decodedSamples(): number {
    return this.decoded;
  }

  async add(packet: Uint8Array): Promise<void> {
    const samples = opusPacketSamples(packet);
    if (this.held) await this.write(this.held, this.heldSamples);
    this.held = packet;
    this.heldSamples = samples;
    this.decoded += samples;
  }

  /**
   * Writes the final packet, trimmed so that the stream holds `sampleCount`
   * samples after pre-skip (default: all it decodes to), and the EOS page.
   * Throws RangeError, discarding the output, when there is no packet or
   * sampleCount does not end inside the final packet.
   */
  async finish(sampleCount = this.decoded - this.preSkip): Promise<void> {
    const end = this.preSkip + sampleCount;
    const lastStart = this.decoded - this.heldSamples;
    let problem: string | undefined;
    if (!this.held) problem = 'An Ogg Opus file needs at least one audio packet';
    // End trimming can only shorten the final packet (RFC 7845 §4.4).
    else if (!Number.isInteger(end) || end <= lastStart || end > this.decoded) {
      problem = `sampleCount must end inside the final packet: pre-skip + sampleCount = ${end}, final packet spans (${lastStart}, ${this.decoded}]`;
    }
    if (problem !== undefined) {
      await this.cancel();
      throw new RangeError(problem);
    }
    await this.write(this.held!, end - lastStart);
    await this.output.finalize();
  }

  /** Abandons the stream (releasing a file target); what was written stays as it is. */
  cancel(): Promise<void> {
    return this.output.cancel();
  }

  private async write(packet: Uint8Array, duration: number): Promise<void> {
    const encoded = new EncodedPacket(packet, 'key', this.written / OPUS_SAMPLE_RATE, duration / OPUS_SAMPLE_RATE);
    const decoderConfig = { codec: 'opus', numberOfChannels: 1, sampleRate: OPUS_SAMPLE_RATE, description: this.head };
    await this.source.add(encoded, this.written === 0 ? { decoderConfig } : undefined);
    this.written += opusPacketSamples(packet);
  }
}

/** Writes a complete mono Ogg Opus file. Throws RangeError when there are no packets or sampleCount does not fit them. */
export async function writeOggOpus(packets: readonly Uint8Array[], options: OggOpusOptions): Promise<Uint8Array> {
  const target = new BufferTarget();
  const writer = await OggOpusWriter.open(target, options);
  for (const packet of packets) await writer.add(packet);
  await writer.finish(options.sampleCount);
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
