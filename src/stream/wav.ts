/**
 * WAV (RIFF/WAVE) files: 16-bit PCM mono written by hand (the format is a 44-byte
 * header), any WAV read back through mediabunny, as mono float samples.
 */
import { AudioSampleSink, BufferSource, Input, WAVE } from 'mediabunny';
import { floatToInt16, int16ToBytesLE } from './pcm.js';

export interface WavAudio {
  sampleRate: number;
  /** Mono, full scale ±1. */
  samples: Float32Array;
}

export const WAV_HEADER_BYTES = 44;
const WAVE_FORMAT_PCM = 1;

/** Encodes mono samples (float in [-1, 1] are clipped to int16) as a PCM16 WAV file. */
export function writeWav(samples: Float32Array | Int16Array, sampleRate: number): Uint8Array {
  const pcm = int16ToBytesLE(samples instanceof Float32Array ? floatToInt16(samples) : samples);
  const out = new Uint8Array(WAV_HEADER_BYTES + pcm.length);
  out.set(wavHeader(sampleRate, pcm.length));
  out.set(pcm, WAV_HEADER_BYTES);
  return out;
}

/**
 * The 44-byte header of a PCM16 mono WAV file whose data chunk holds
 * `dataBytes` bytes; a file written while its audio arrives rewrites it at the end.
 */
export function wavHeader(sampleRate: number, dataBytes: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`Invalid sample rate ${sampleRate}`);
  const out = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => out.set(new TextEncoder().encode(text), offset);
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return out;
}

/** Bytes that readWav cannot decode; the message can be shown to whoever sent them. */
export class WavError extends TypeError {
  override readonly name = 'WavError';
}

/**
 * Decodes a WAV file (RIFF WAVE, PCM 8/16/24/32-bit or float, any channel count)
 * and averages its channels into one. mediabunny (a dependency for Ogg already)
 * walks the chunks and decodes every sample format.
 */
export async function readWav(bytes: Uint8Array): Promise<WavAudio> {
  const input = new Input({ source: new BufferSource(bytes), formats: [WAVE] });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track) throw new WavError('the WAV file holds no audio track');
    const channels = track.numberOfChannels;
    const chunks: Float32Array[] = [];
    let scratch = new Float32Array(0);
    for await (const sample of new AudioSampleSink(track).samples()) {
      try {
        const n = sample.numberOfFrames;
        const mono = new Float32Array(n);
        if (scratch.length < n) scratch = new Float32Array(n);
        for (let c = 0; c < channels; c++) {
          sample.copyTo(scratch, { planeIndex: c, format: 'f32-planar', frameCount: n });
          for (let i = 0; i < n; i++) mono[i]! += scratch[i]! / channels;
        }
        chunks.push(mono);
      } finally {
        sample.close();
      }
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (total === 0) throw new WavError('the WAV file holds no samples');
    const samples = new Float32Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      samples.set(chunk, offset);
      offset += chunk.length;
    }
    return { samples, sampleRate: track.sampleRate };
  } catch (err) {
    if (err instanceof WavError) throw err;
    // The decoder's own message describes its internals; the cause keeps it for the log.
    throw new WavError('the bytes are not a WAV file that can be decoded (RIFF WAVE, PCM 8/16/24/32-bit or float)', { cause: err });
  } finally {
    input.dispose();
  }
}
