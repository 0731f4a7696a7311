/**
 * 16-bit PCM mono WAV (RIFF/WAVE) writing and reading.
 *
 * Hand-written rather than a dependency: the format is a 44-byte header, and
 * the reader only needs to walk RIFF chunks (skipping LIST and friends).
 */
import { bytesLEToInt16, floatToInt16, int16ToBytesLE } from './pcm.js';

export interface WavAudio {
  sampleRate: number;
  samples: Int16Array;
}

export const WAV_HEADER_BYTES = 44;
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

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

/**
 * Decodes a PCM16 mono WAV file. Accepts WAVE_FORMAT_EXTENSIBLE with a PCM
 * subformat and a data size larger than the file (as written by streaming
 * recorders that never patch the header). Throws a TypeError for anything else.
 */
export function readWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fourcc = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || fourcc(0) !== 'RIFF' || fourcc(8) !== 'WAVE') throw new TypeError('Not a RIFF/WAVE file');
  let sampleRate: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = fourcc(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new TypeError('Truncated fmt chunk');
      let format = view.getUint16(body, true);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 26) format = view.getUint16(body + 24, true);
      const channels = view.getUint16(body + 2, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== WAVE_FORMAT_PCM || channels !== 1 || bits !== 16) {
        throw new TypeError(`Unsupported WAV: format ${format}, ${channels} channels, ${bits} bits (need PCM, 1, 16)`);
      }
      sampleRate = view.getUint32(body + 4, true);
    } else if (id === 'data') {
      if (sampleRate === undefined) throw new TypeError('WAV data chunk before fmt chunk');
      const end = Math.min(body + size, bytes.length);
      return { sampleRate, samples: bytesLEToInt16(bytes.subarray(body, end)) };
    }
    offset = body + size + (size & 1); // chunks are word-aligned
  }
  throw new TypeError(sampleRate === undefined ? 'WAV has no fmt chunk' : 'WAV has no data chunk');
}
