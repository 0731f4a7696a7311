import { describe, expect, it } from 'vitest';
import { bytesLEToInt16, floatToInt16, floatToPcm16LE, int16ToBytesLE, int16ToFloat } from '../src/stream/pcm.js';
import { readWav, WavError, writeWav } from '../src/stream/wav.js';

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

  it('round-trips int16 samples and the sample rate', async () => {
    const back = await readWav(writeWav(samples, 48000));
    expect(back.sampleRate).toBe(48000);
    expect(floatToInt16(back.samples)).toEqual(samples);
  });

  it('converts float input with clipping', async () => {
    expect(Array.from(floatToInt16((await readWav(writeWav(Float32Array.from([0.25, 2, -2]), 8000))).samples))).toEqual([8192, 32767, -32768]);
  });

  it('skips other chunks', async () => {
    const plain = writeWav(Int16Array.from([7, -7, 300]), 16000);
    const list = Uint8Array.from([...'LIST'].map((c) => c.charCodeAt(0)).concat([4, 0, 0, 0, 1, 2, 3, 4]));
    const wav = new Uint8Array(plain.length + list.length);
    wav.set(plain.subarray(0, 36));
    wav.set(list, 36);
    wav.set(plain.subarray(36), 36 + list.length);
    new DataView(wav.buffer).setUint32(4, wav.length - 8, true);
    const back = await readWav(wav);
    expect(back.sampleRate).toBe(16000);
    expect(Array.from(floatToInt16(back.samples))).toEqual([7, -7, 300]);
  });

  it('averages the channels of a stereo file', async () => {
    const mono = writeWav(Int16Array.from([1000, -2000, 3000, 4000]), 8000);
    const view = new DataView(mono.buffer);
    view.setUint16(22, 2, true); // channels
    view.setUint32(28, 8000 * 4, true); // byte rate
    view.setUint16(32, 4, true); // block align
    const back = await readWav(mono);
    expect(Array.from(floatToInt16(back.samples))).toEqual([-500, 3500]);
  });

  it('refuses what it cannot read with a WavError', async () => {
    const wav = writeWav(Int16Array.from([1, 2]), 8000);
    await expect(readWav(new TextEncoder().encode('RIFX....WAVEfmt '))).rejects.toBeInstanceOf(WavError);
    await expect(readWav(wav.subarray(0, 36))).rejects.toBeInstanceOf(WavError);
    expect(() => writeWav(Int16Array.from([1]), 0)).toThrow(RangeError);
  });
});
