import { describe, expect, it } from 'vitest';
import { createPolyphaseResampler } from '../src/stream/polyphase.js';
import { createResampler } from '../src/stream/libsamplerate.js';
import { resampledLength } from '../src/stream/resampler.js';

const sine = (freq: number, rate: number, length: number, amplitude = 0.5) => Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));

/** Amplitude of the `freq` component of `x` (sampled at `rate`) over its middle, edges excluded. */
function amplitude(x: Float32Array, freq: number, rate: number): number {
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
    im += x[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

const db = (ratio: number) => 20 * Math.log10(ratio);

describe('polyphase resampler', () => {
  const wire = createPolyphaseResampler(22050, 48000);

  it('returns exactly round(n · to / from) samples', async () => {
    for (const [from, to] of [[22050, 48000], [48000, 22050], [16000, 48000], [24000, 48000]] as const) {
      const r = createPolyphaseResampler(from, to);
      for (const n of [0, 1, 2, 147, 999, 4410]) expect((await r.process(new Float32Array(n).fill(0.1))).length).toBe(resampledLength(n, from, to));
    }
  });

  it('is flat to 9.9 kHz and puts images 80 dB down, 22050 → 48000', async () => {
    for (const f of [100, 1000, 4000, 8000, 9900]) {
      const out = await wire.process(sine(f, 22050, 22050));
      expect(Math.abs(db(amplitude(out, f, 48000) / 0.5)), `${f} Hz`).toBeLessThan(0.01);
      // Upsampling mirrors f around the input's Nyquist frequency: the image sits at 22050 − f.
      expect(db(amplitude(out, 22050 - f, 48000) / 0.5), `image of ${f} Hz`).toBeLessThan(-80);
    }
  });

  it('keeps time alignment: output sample k sits at input time k · from / to', async () => {
    const out = await wire.process(sine(440, 22050, 22050));
    const expected = sine(440, 48000, 48000);
    let worst = 0;
    for (let i = 2000; i < 46000; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    const impulse = new Float32Array(2205);
    impulse[1000] = 1;
    const response = await wire.process(impulse);
    const peak = response.reduce((best, v, i) => (v > response[best]! ? i : best), 0);
    expect(peak).toBe(Math.round((1000 * 48000) / 22050));
  });

  it('matches libsamplerate’s best converter on band-limited audio', async () => {
    const input = Float32Array.from({ length: 44100 }, (_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007) + 0.1 * Math.sin(i * 1.3));
    const reference = await createResampler(22050, 48000);
    const [ours, theirs] = [await wire.process(input), await reference.process(input)];
    reference.close();
    let worst = 0;
    for (let i = 1000; i < ours.length - 1000; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('removes content above the new Nyquist frequency when downsampling', async () => {
    const out = await createPolyphaseResampler(48000, 22050).process(sine(13000, 48000, 48000));
    let energy = 0;
    for (let i = 2205; i < out.length - 2205; i++) energy += out[i]! ** 2;
    expect(Math.sqrt(energy / (out.length - 4410))).toBeLessThan(1e-3);
  });

  it('joins per-phrase conversions sample for sample with converting the stream whole', async () => {
    // Phrases separated by silence longer than the filter: each converts alone as it would in the stream.
    const phrase = sine(300, 22050, 2205);
    const stream = new Float32Array(2205 * 4);
    stream.set(phrase, 0);
    stream.set(phrase, 4410);
    const whole = await wire.process(stream);
    const half = await wire.process(stream.subarray(0, 4410));
    let worst = 0;
    for (let i = 0; i < half.length - 100; i++) worst = Math.max(worst, Math.abs(whole[i]! - half[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it('lets the event loop in while it converts a long input, with the same result as in one go', async () => {
    const r = createPolyphaseResampler(22050, 48000);
    // 30 s of audio: 1.44 M outputs, which held the server's thread for 0.4-0.5 s in one piece.
    const input = sine(300, 22050, 22050 * 30);
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const long = await r.process(input);
    running = false;
    // One yield per 4,096 outputs: other callbacks ran between the slices.
    expect(turns).toBeGreaterThanOrEqual(Math.floor(long.length / 4096) - 1);
    const head = await r.process(input.subarray(0, 22050));
    expect(long.subarray(0, 40_000)).toEqual(head.subarray(0, 40_000));
  });

  it('refuses bad rates and calls after close', async () => {
    expect(() => createPolyphaseResampler(0, 48000)).toThrow(RangeError);
    expect(() => createPolyphaseResampler(22050.5, 48000)).toThrow(RangeError);
    expect(() => createPolyphaseResampler(44099, 48000)).toThrow(/phases/);
    const r = createPolyphaseResampler(22050, 48000);
    r.close();
    await expect(r.process(new Float32Array(4))).rejects.toThrow(/closed/);
  });
});
