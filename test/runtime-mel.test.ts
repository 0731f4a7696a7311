import FFT from 'fft.js';
import { describe, expect, it } from 'vitest';
import { LogMel, hzToMelSlaney, melToHzSlaney, slaneyMelFilterbank } from '../src/pipeline/synthesis/mel.js';
import type { MelConfig } from '../src/pipeline/voice/manifest.js';

const CONFIG: MelConfig = {
  sampleRate: 22050, nFft: 1024, winLength: 1024, hopLength: 256, nMels: 80, fMin: 0, fMax: 8000, logFloor: 1e-5,
  window: 'hann-periodic', center: false, padMode: 'reflect', padding: 384, melScale: 'slaney', melNorm: 'slaney', magnitudeEps: 1e-9,
};

function tones(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const t = i / 22050;
    return 0.5 * Math.sin(2 * Math.PI * 440 * t) + 0.1 * Math.sin(2 * Math.PI * 3000 * t);
  });
}

describe('Slaney mel scale', () => {
  it('is linear below 1 kHz and round-trips', () => {
    expect(hzToMelSlaney(500)).toBeCloseTo(7.5, 12);
    expect(hzToMelSlaney(1000)).toBeCloseTo(15, 12);
    for (const hz of [0, 440, 999, 1000, 3000, 8000]) expect(melToHzSlaney(hzToMelSlaney(hz))).toBeCloseTo(hz, 9);
  });

  // Reference values printed by models/recipe/emomix/audio.py mel_basis(22050, 1024, 80, 0, 8000).
  it('matches the recipe filterbank', () => {
    const bank = slaneyMelFilterbank(22050, 1024, 80, 0, 8000);
    const row = (m: number) => bank.subarray(m * 513, (m + 1) * 513);
    const expected1 = [0.0, 0.0, 0.004202025476843119, 0.019729746505618095, 0.018449364230036736, 0.002921643666923046];
    Array.from(row(1).subarray(0, 6)).forEach((v, i) => expect(v).toBeCloseTo(expected1[i]!, 7));
    expect(row(40).indexOf(Math.max(...row(40)))).toBe(80);
    expect(Math.max(...row(40))).toBeCloseTo(0.014895469881594181, 7);
    const nonzero = Array.from(row(79).keys()).filter((k) => row(79)[k]! > 0);
    expect([nonzero[0], nonzero.at(-1)]).toEqual([345, 371]);
    expect(bank.reduce((s, v) => s + v, 0)).toBeCloseTo(3.7136881962078405, 5);
  });
});

describe('fft.js real transform', () => {
  it('agrees with a direct DFT on bins 0…N/2', () => {
    const n = 64;
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + (i % 5) * 0.1);
    const fft = new FFT(n);
    const out = fft.createComplexArray() as number[];
    fft.realTransform(out, x);
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        re += x[i]! * Math.cos((2 * Math.PI * k * i) / n);
        im -= x[i]! * Math.sin((2 * Math.PI * k * i) / n);
      }
      expect(out[2 * k]).toBeCloseTo(re, 9);
      expect(out[2 * k + 1]).toBeCloseTo(im, 9);
    }
  });
});

describe('LogMel', () => {
  const mel = new LogMel(CONFIG);

  it('counts frames as floor((L + 2·384 − 1024)/256) + 1', () => {
    expect(mel.frameCount(4000)).toBe(15);
    expect(mel.frameCount(256)).toBe(1);
    expect(mel.frameCount(255)).toBe(0);
    expect(mel.frameCount(22050)).toBe(86);
  });

  // Reference values from the recipe's torch log_mel (models/recipe/emomix/audio.py) on the same
  // two tones, with 1e-4 slack for float32 STFT rounding on the torch side.
  it('matches the recipe on a two-tone signal', () => {
    const { data, frames } = mel.compute(tones(4000));
    expect(frames).toBe(15);
    const at = (c: number, f: number) => data[c * frames + f]!;
    expect(at(0, 0)).toBeCloseTo(-1.140536904335022, 4);
    expect(at(10, 3)).toBeCloseTo(0.7216124534606934, 4);
    expect(at(10, 14)).toBeCloseTo(0.7851117849349976, 4);
    expect(at(53, 8)).toBeCloseTo(-6.571647644042969, 4);
    expect(at(79, 14)).toBeCloseTo(-6.706707000732422, 4);
    expect(data.reduce((s, v) => s + v, 0)).toBeCloseTo(-9559.649750828743, 1);
  });

  it('puts a 440 Hz tone in the mel band centred nearest 440 Hz', () => {
    const { data, frames } = mel.compute(tones(4000));
    const column = Array.from({ length: 80 }, (_, c) => data[c * frames + 7]!);
    expect(column.indexOf(Math.max(...column))).toBe(11);
  });

  it('floors silence at log(1e-5)', () => {
    const { data } = mel.compute(new Float32Array(2048));
    expect(Math.max(...data)).toBeCloseTo(Math.log(1e-5), 6);
  });
});
