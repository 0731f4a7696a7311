// Streamed audio files for the HTTP speech routes: each encoder takes the
// speech phrase by phrase (mono float PCM at its own `sampleRate`) and returns
// the bytes that can go out now, so a response streams as phrases complete.
import { StreamTarget, type StreamTargetChunk } from 'mediabunny';
import { Mp3EncoderPool, type Mp3SampleRate } from '../stream/mp3.js';
import { OggOpusWriter } from '../stream/ogg.js';
import { encodeInTurns, opusInputRate, type OpusEncoderPool } from '../stream/opus.js';
import { floatToPcm16LE } from '../stream/pcm.js';
import { wavHeader } from '../stream/wav.js';

export interface SpeechEncoder {
  readonly contentType: string;
  /** The rate `encode` expects. */
  readonly sampleRate: number;
  /** Bytes to send before any audio (a header); may be empty. */
  start(): Promise<Uint8Array>;
  encode(pcm: Float32Array): Promise<Uint8Array>;
  /** The rest of the file; the encoder is spent. */
  finish(): Promise<Uint8Array>;
  /** Abandons the file (the client left); releases what the encoder holds. */
  discard(): void;
}

export interface EncoderResources {
  opus: OpusEncoderPool;
  mp3: Mp3EncoderPool;
}

const EMPTY = new Uint8Array(0);

/** Raw signed 16-bit little-endian mono PCM, no header. */
export function pcmEncoder(sampleRate: number): SpeechEncoder {
  return {
    contentType: `audio/pcm;rate=${sampleRate};encoding=s16le;channels=1`,
    sampleRate,
    start: async () => EMPTY,
    encode: async (pcm) => floatToPcm16LE(pcm),
    finish: async () => EMPTY,
    discard: () => {},
  };
}

/**
 * PCM16 mono WAV whose length is not known when the header goes out: the RIFF
 * and data sizes are the largest possible, as live WAV streams write them;
 * readers take the data chunk to run to the end of the file.
 */
export function streamingWavEncoder(sampleRate: number): SpeechEncoder {
  return {
    ...pcmEncoder(sampleRate),
    contentType: 'audio/wav',
    start: async () => wavHeader(sampleRate, 0xffff_ffff - 36),
  };
}

export async function mp3Encoder(pool: Mp3EncoderPool, sampleRate: Mp3SampleRate, kbps: 32 | 48 | 64 | 96 | 128): Promise<SpeechEncoder> {
  const stream = await pool.open(sampleRate, kbps);
  return {
    contentType: 'audio/mpeg',
    sampleRate,
    start: async () => EMPTY,
    encode: async (pcm) => stream.encode(pcm),
    finish: async () => stream.finish(),
    discard: () => stream.discard(),
  };
}

/**
 * Ogg Opus (RFC 7845), decoded at 48 kHz, encoded from the lowest Opus rate that holds a
 * `inputSampleRate` signal; pages go out as they complete (at most a second each).
 */
export async function oggOpusEncoder(pool: OpusEncoderPool, inputSampleRate: number): Promise<SpeechEncoder> {
  const encoder = pool.take(opusInputRate(inputSampleRate));
  const pending: Uint8Array[] = [];
  let written = 0;
  const target = new StreamTarget(
    new WritableStream<StreamTargetChunk>({
      write(chunk) {
        // The Ogg muxer only appends; a seek back would mean a bug worth hearing about.
        if (chunk.position !== written) throw new Error(`Ogg muxer wrote at ${chunk.position}, expected ${written}`);
        written += chunk.data.length;
        pending.push(chunk.data.slice());
      },
    }),
  );
  const writer = await OggOpusWriter.open(target, { preSkip: encoder.preSkip, inputSampleRate });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    pool.give(encoder);
  };
  const drain = async (): Promise<Uint8Array> => {
    // The stream's sink runs in a later microtask than the muxer's write.
    await new Promise((resolve) => setImmediate(resolve));
    const out = Buffer.concat(pending.splice(0));
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  };
  const add = async (packets: Uint8Array[]): Promise<void> => {
    for (const packet of packets) await writer.add(packet);
  };
  // The encoder pads each call to whole frames: the tail of a phrase waits for the next one,
  // so phrases join without silence between them.
  let carry = new Float32Array(0);
  return {
    contentType: 'audio/ogg',
    sampleRate: encoder.sampleRate,
    start: drain,
    encode: async (pcm) => {
      const joined = new Float32Array(carry.length + pcm.length);
      joined.set(carry);
      joined.set(pcm, carry.length);
      const whole = joined.length - (joined.length % encoder.frameSamples);
      carry = joined.slice(whole);
      if (whole > 0) await add(await encodeInTurns(encoder, joined.subarray(0, whole)));
      return drain();
    },
    finish: async () => {
      // A file needs at least one packet, even for text with nothing to pronounce.
      if (carry.length > 0 || encoder.sampleCount === 0) await add(encoder.encode(carry.length > 0 ? carry : new Float32Array(1)));
      await add(encoder.flush());
      const sampleCount = encoder.sampleCount;
      release();
      await writer.finish(sampleCount);
      return drain();
    },
    discard: () => {
      release();
      void writer.cancel().catch(() => {});
    },
  };
}
