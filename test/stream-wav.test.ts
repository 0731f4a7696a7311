import { describe, expect, it } from 'vitest';
import { bytesLEToInt16, floatToInt16, floatToPcm16LE, int16ToBytesLE, int16ToFloat } from '../src/stream/pcm.js';
import { readWav, writeWav } from '../src/stream/wav.js';

describe('pcm conversion', () => {
  it('rounds, clips and zeroes NaN when converting float to int16', () => {
    const input = Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -1.5, 0.6 / 32768, -2.6 / 32768, Number.NaN, Infinity, -Infinity]);
    expect(Array.from(floatToInt16(input))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 1, -3, 0, 32767, -32768]);
  });

  it('round-trips every int16 value through float exactly', () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    expect(floatToInt16(int16ToFloat(all))).toEqual(all);
  });

  it('writes little-endian bytes whatever the host order', () => {
    expect(Array.from(int16ToBytesLE(Int16Array.from([1, -2, 0x1234])))).toEqual([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12]);
    expect(Array.from(bytesLEToInt16(Uint8Array.from([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12, 0x99])))).toEqual([1, -2, 0x1234]);
    expect(Array.from(floatToPcm16LE(Float32Array.from([0.5, -2])))).toEqual([0x00, 0x40, 0x00, 0x80]);
  });

  it('reads little-endian bytes from an unaligned view', () => {
    const bytes = Uint8Array.from([0xaa, 0x01, 0x00, 0xfe, 0xff]).subarray(1);
    expect(Array.from(bytesLEToInt16(bytes))).toEqual([1, -2]);
  });
});

describe('WAV', () => {
  const samples = Int16Array.from({ length: 1001 }, (_, i) => Math.round(30000 * Math.sin(i / 7)));

  it('writes a canonical 44-byte PCM16 mono header', () => {
    const wav = writeWav(samples, 22050);
    const view = new DataView(wav.buffer);
    const text = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    expect(wav.length).toBe(44 + 2 * samples.length);
    expect([text(0), text(8), text(12), text(36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect(view.getUint32(4, true)).toBe(36 + 2 * samples.length);
    expect(view.getUint32(16, true)).toBe(16);
    expect(view.getUint16(20, true)).toBe(1);
    expect(view.getUint16(22, true)).toBe(1);
    expect(view.getUint32(24, true)).toBe(22050);
    expect(view.getUint32(28, true)).toBe(44100);
    expect(view.getUint16(32, true)).toBe(2);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(2 * samples.length);
  });

  it('round-trips int16 samples and the sample rate', () => {
    const back = readWav(writeWav(samples, 48000));
    expect(back.sampleRate).toBe(48000);
    expect(back.samples).toEqual(samples);
  });

  it('converts float input with clipping', () => {
    expect(Array.from(readWav(writeWav(Float32Array.from([0.25, 2, -2]), 8000)).samples)).toEqual([8192, 32767, -32768]);
  });

  it('skips other chunks, honours odd-size padding, and reads a data size beyond the file', () => {
    const plain = writeWav(Int16Array.from([7, -7, 300]), 16000);
    const list = Uint8Array.from([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const wav = new Uint8Array(plain.length + list.length);
    wav.set(plain.subarray(0, 36));
    wav.set(list, 36);
    wav.set(plain.subarray(36), 36 + list.length);
    new DataView(wav.buffer).setUint32(36 + list.length + 4, 0xffffffff, true); // a streaming recorder's unknown size
    const back = readWav(wav);
    expect(back.sampleRate).toBe(16000);
    expect(Array.from(back.samples)).toEqual([7, -7, 300]);
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE with a PCM subformat', () => {
    const plain = writeWav(Int16Array.from([1, 2, 3]), 24000);
    const wav = new Uint8Array(plain.length + 24);
    wav.set(plain.subarray(0, 20));
    const view = new DataView(wav.buffer);
    view.setUint32(16, 40, true);
    wav.set(plain.subarray(20, 36), 20);
    view.setUint16(20, 0xfffe, true);
    view.setUint16(36, 22, true); // cbSize
    view.setUint16(38, 16, true); // valid bits
    view.setUint32(40, 4, true); // channel mask
    view.setUint16(44, 1, true); // subformat: PCM
    wav.set(plain.subarray(36), 60);
    expect(readWav(wav)).toEqual({ sampleRate: 24000, samples: Int16Array.from([1, 2, 3]) });
  });

  it('rejects what it cannot read', () => {
    const wav = writeWav(Int16Array.from([1, 2]), 8000);
    const variant = (offset: number, value: number) => {
      const copy = wav.slice();
      new DataView(copy.buffer).setUint16(offset, value, true);
      return copy;
    };
    expect(() => readWav(variant(22, 2))).toThrow(/2 channels/);
    expect(() => readWav(variant(34, 8))).toThrow(/8 bits/);
    expect(() => readWav(variant(20, 3))).toThrow(/format 3/);
    expect(() => readWav(new TextEncoder().encode('RIFX....WAVEfmt '))).toThrow(TypeError);
    expect(() => readWav(wav.subarray(0, 36))).toThrow(/no data chunk/);
    expect(() => writeWav(Int16Array.from([1]), 0)).toThrow(RangeError);
  });
});
