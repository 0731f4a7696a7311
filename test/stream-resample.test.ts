import { describe, expect, it } from 'vitest';
import { createResampler, resample } from '../src/stream/libsamplerate.js';
import { resampledLength } from '../src/stream/resampler.js';

function sine(freq: number, rate: number, length: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** Frequency estimated from upward zero crossings over the middle of the signal (edges excluded). */
function zeroCrossingFrequency(x: Float32Array, rate: number): number {
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = from + 1; i < to; i++) {
    if ((x[i - 1] as number) < 0 && (x[i] as number) >= 0) {
      const t = i - 1 + (x[i - 1] as number) / ((x[i - 1] as number) - (x[i] as number));
      if (first < 0) first = t;
      else count++;
      last = t;
    }
  }
  return (count * rate) / (last - first);
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / (to - from));
}

function maxAbsDiff(a: Float32Array, b: Float32Array, from = 0, to = Math.min(a.length, b.length)): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('resample', () => {
  it('returns exactly round(n · to / from) samples', async () => {
    const pairs: [number, number][] = [
      [22050, 48000], [48000, 22050], [8000, 22050], [11025, 22050], [16000, 22050],
      [24000, 22050], [32000, 22050], [44100, 22050], [22050, 16000],
    ];
    for (const [from, to] of pairs) {
      const r = await createResampler(from, to);
      for (const n of [0, 1, 2, 3, 7, 100, 147, 999, 4410, 12345]) {
        const out = await r.process(new Float32Array(n).fill(0.1));
        expect(out.length, `${from}→${to}, n=${n}`).toBe(resampledLength(n, from, to));
        expect(out.length).toBe(Math.round((n * to) / from));
      }
      r.close();
    }
  });

  it('preserves a sine’s frequency and level, 22050 → 48000 (the wire)', async () => {
    const input = sine(440, 22050, 22050);
    const out = await resample(input, 22050, 48000);
    expect(out.length).toBe(48000);
    expect(zeroCrossingFrequency(out, 48000)).toBeCloseTo(440, 1);
    expect(rms(out, 4800, 43200)).toBeCloseTo(0.5 / Math.SQRT2, 3);
    // Output sample k sits at input time k · from/to: compare with the sine sampled at 48 kHz.
    expect(maxAbsDiff(out, sine(440, 48000, 48000), 2000, 46000)).toBeLessThan(1e-3);
  });

  it('brings reference clips from 8–48 kHz to 22050 Hz with the pitch intact', async () => {
    for (const [rate, freq] of [[8000, 1000], [16000, 3000], [44100, 5000], [48000, 220]] as const) {
      const out = await resample(sine(freq, rate, rate), rate, 22050);
      expect(out.length).toBe(22050);
      expect(zeroCrossingFrequency(out, 22050)).toBeCloseTo(freq, 0);
      expect(maxAbsDiff(out, sine(freq, 22050, 22050), 2205, 19845)).toBeLessThan(2e-3);
    }
  });

  it('removes content above the new Nyquist frequency when downsampling', async () => {
    const out = await resample(sine(15000, 48000, 48000), 48000, 22050);
    expect(rms(out, 2205, 19845)).toBeLessThan(1e-3);
  });

  it('keeps time alignment: an impulse stays at k · to / from', async () => {
    const x = new Float32Array(2205);
    x[1000] = 1;
    const out = await resample(x, 22050, 48000);
    let peak = 0;
    for (let i = 0; i < out.length; i++) if (Math.abs(out[i] as number) > Math.abs(out[peak] as number)) peak = i;
    expect(peak).toBe(Math.round((1000 * 48000) / 22050));
  });

  it('returns a copy for equal rates and rejects bad rates', async () => {
    const x = Float32Array.from([1, 2, 3]);
    const out = await resample(x, 22050, 22050);
    expect(out).toEqual(x);
    expect(out).not.toBe(x);
    await expect(resample(x, 0, 48000)).rejects.toThrow(RangeError);
    await expect(resample(x, 22050.5, 48000)).rejects.toThrow(RangeError);
    await expect(resample(x, 100, 48000)).rejects.toThrow(/ratio/);
    const r = await createResampler(22050, 48000);
    r.close();
    await expect(r.process(x)).rejects.toThrow(/closed/);
  });

  it('converts inputs beyond the wasm buffer with the same samples as short ones', async () => {
    // 22 s at 8 kHz → 1,056,000 samples at 48 kHz: more than libsamplerate-js's 1,008,000-sample buffer.
    const rate = 8000;
    const input = sine(1234.5, rate, 22 * rate, 0.8);
    const long = await resample(input, rate, 48000);
    expect(long.length).toBe(22 * 48000);
    expect(maxAbsDiff(long, sine(1234.5, 48000, long.length, 0.8), 4800, long.length - 4800)).toBeLessThan(1e-3);
    // A 12 s prefix (spanning a 65,536-sample chunk border of the long path) goes through the short path;
    // away from the prefix's end the two must agree sample for sample.
    const prefix = await resample(input.subarray(0, 12 * rate), rate, 48000);
    expect(maxAbsDiff(long, prefix, 0, prefix.length - 4800)).toBeLessThan(1e-6);
    // Around the end, the long path has flushed the filter like the short one does.
    const tail = await resample(input.subarray(20 * rate), rate, 48000);
    expect(maxAbsDiff(long.subarray(20 * 48000), tail, 4800, tail.length)).toBeLessThan(1e-6);
  });
});

describe('phrase after phrase (one-shot per phrase)', () => {
  // Synthesized phrases start and end near silence; 5 ms fades stand in for that.
  function phrase(freq: number, length: number): Float32Array {
    const x = sine(freq, 22050, length, 0.6);
    const fade = 110;
    for (let i = 0; i < fade; i++) {
      const g = 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
      x[i] = (x[i] as number) * g;
      x[length - 1 - i] = (x[length - 1 - i] as number) * g;
    }
    return x;
  }

  it('joins per-phrase conversions without edge clicks', async () => {
    // Lengths are multiples of 147 so that phrase starts land on whole output samples (48000/22050 = 320/147).
    const phrases = [phrase(220, 147 * 40), phrase(330, 147 * 25), phrase(262, 147 * 61)];
    const joined = new Float32Array(phrases.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of phrases) {
      joined.set(p, offset);
      offset += p.length;
    }
    const r = await createResampler(22050, 48000);
    const parts = await Promise.all(phrases.map((p) => r.process(p)));
    const stream = await r.process(joined);
    r.close();
    const concatenated = new Float32Array(stream.length);
    offset = 0;
    for (const part of parts) {
      concatenated.set(part, offset);
      offset += part.length;
    }
    expect(offset).toBe(stream.length);
    // Per-phrase conversion equals converting the joined stream, junctions included.
    expect(maxAbsDiff(concatenated, stream)).toBeLessThan(1e-3);
    // No step at a junction larger than the signal's own sample-to-sample change.
    let maxStep = 0;
    for (let i = 1; i < stream.length; i++) maxStep = Math.max(maxStep, Math.abs((stream[i] as number) - (stream[i - 1] as number)));
    let junction = 0;
    for (const part of parts.slice(0, -1)) {
      junction += part.length;
      expect(Math.abs((concatenated[junction] as number) - (concatenated[junction - 1] as number))).toBeLessThan(maxStep);
      expect(Math.abs(concatenated[junction - 1] as number)).toBeLessThan(0.01);
    }
  });
});
