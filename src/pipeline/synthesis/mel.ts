// The contract's log-mel spectrogram (CONTRACT.md, "Log-mel"), computed exactly as the
// recipe does so that ser.onnx sees the features it was trained on.
import FFT from 'fft.js';
import type { MelConfig } from '../voice/manifest.js';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMelSlaney(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

export function melToHzSlaney(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/**
 * librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney') as
 * [nMels, nFft/2 + 1], row-major. librosa stores the weights as float32, hence Float32Array.
 */
export function slaneyMelFilterbank(sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): Float32Array {
  const bins = nFft / 2 + 1;
  const melMin = hzToMelSlaney(fMin);
  const melMax = hzToMelSlaney(fMax);
  const points = Array.from({ length: nMels + 2 }, (_, i) => melToHzSlaney(melMin + ((melMax - melMin) * i) / (nMels + 1)));
  const weights = new Float32Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const [lo, centre, hi] = [points[m]!, points[m + 1]!, points[m + 2]!];
    const norm = 2 / (hi - lo);
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / nFft;
      const lower = (f - lo) / (centre - lo);
      const upper = (hi - f) / (hi - centre);
      weights[m * bins + k] = Math.max(0, Math.min(lower, upper)) * norm;
    }
  }
  return weights;
}

/** Index into [0, n) of position i under reflect padding (no edge repeat), folding as often as needed. */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = ((i % period) + period) % period;
  return r < n ? r : period - r;
}

export interface LogMelResult {
  /** [nMels, frames], row-major. */
  data: Float32Array;
  frames: number;
}

export class LogMel {
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly filters: Float32Array;
  private readonly bins: number;

  constructor(readonly config: MelConfig) {
    const { nFft } = config;
    this.fft = new FFT(nFft);
    this.bins = nFft / 2 + 1;
    this.window = Float64Array.from({ length: nFft }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft));
    this.filters = slaneyMelFilterbank(config.sampleRate, nFft, config.nMels, config.fMin, config.fMax);
  }

  /** Frames produced for `samples` input samples: floor((L + 2·padding − nFft)/hop) + 1, at least 0. */
  frameCount(samples: number): number {
    const { nFft, hopLength, padding } = this.config;
    const padded = samples + 2 * padding;
    return padded < nFft ? 0 : Math.floor((padded - nFft) / hopLength) + 1;
  }

  compute(wave: Float32Array): LogMelResult {
    const { nFft, hopLength, padding, nMels, logFloor, magnitudeEps } = this.config;
    if (wave.length === 0) throw new RangeError('log-mel of an empty waveform');
    const frames = this.frameCount(wave.length);
    const out = new Float32Array(nMels * frames);
    const frame = new Float64Array(nFft);
    const spectrum = this.fft.createComplexArray() as number[];
    const magnitude = new Float64Array(this.bins);
    for (let f = 0; f < frames; f++) {
      const start = f * hopLength - padding;
      for (let n = 0; n < nFft; n++) frame[n] = wave[reflectIndex(start + n, wave.length)]! * this.window[n]!;
      this.fft.realTransform(spectrum, frame);
      for (let k = 0; k < this.bins; k++) {
        const re = spectrum[2 * k]!;
        const im = spectrum[2 * k + 1]!;
        magnitude[k] = Math.sqrt(re * re + im * im + magnitudeEps);
      }
      for (let m = 0; m < nMels; m++) {
        let sum = 0;
        const row = m * this.bins;
        for (let k = 0; k < this.bins; k++) sum += this.filters[row + k]! * magnitude[k]!;
        out[m * frames + f] = Math.log(Math.max(sum, logFloor));
      }
    }
    return { data: out, frames };
  }
}
