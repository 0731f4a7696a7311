/**
 * Polyphase windowed-sinc resampling for a fixed rational rate pair: the server's
 * converter from the voice rate to the wire's 48 kHz.
 *
 * libsamplerate's sinc converters (libsamplerate.ts) interpolate their filter for any ratio,
 * which at 22050 → 48000 Hz cost 32–80 ms of CPU per second of audio on the main thread,
 * as much as synthesis itself. A rational ratio L/M needs only L fixed filter phases,
 * tabulated once; each output sample is then one dot product of `TAPS` input samples,
 * a few ms per second of audio.
 *
 * Filter: Kaiser-windowed sinc (β for 80 dB), cut off at the lower rate's Nyquist
 * frequency, 56 taps at the lower rate: flat to 0.9 of that Nyquist frequency (9.9 kHz
 * at 22050 Hz) and 80 dB down from 1.1 of it, so neither images (upsampling) nor
 * aliases (downsampling) reach the band below 0.9. Each phase is normalised to unit DC
 * gain.
 *
 * Same contract as every Resampler (resampler.ts): n samples in give Math.round(n · to / from) out, output
 * sample k sits at input time k · from / to, the signal is taken as silent outside the
 * input, and calls share no state. A call yields to the event loop every SLICE_OUTPUTS
 * output samples, so no conversion holds the server's thread for longer than a few ms.
 */
import { nextTurn } from './next-turn.js';
import { checkSampleRate, resamplerOf, type Resampler } from './resampler.js';

const TAPS = 56;
const KAISER_BETA = 7.857; // 80 dB stopband (Kaiser's formula 0.1102 · (A − 8.7))
const MAX_PHASES = 4096;
/** Output samples computed between yields to the event loop: about 1 ms of CPU. */
const SLICE_OUTPUTS = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

export function createPolyphaseResampler(fromRate: number, toRate: number): Resampler {
  checkSampleRate(fromRate);
  checkSampleRate(toRate);
  const g = gcd(fromRate, toRate);
  const phases = toRate / g;
  const step = fromRate / g;
  if (phases > MAX_PHASES) throw new RangeError(`${fromRate} → ${toRate} Hz needs ${phases} filter phases; at most ${MAX_PHASES}`);
  // Cut-off as a fraction of the input's Nyquist frequency; the filter spans TAPS samples
  // at the lower rate, so more input samples when downsampling.
  const cutoff = Math.min(1, toRate / fromRate);
  const half = Math.ceil(TAPS / 2 / cutoff);
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    // Tap j of phase p weighs input sample n − half + 1 + j for an output at n + p/phases.
    let sum = 0;
    const row = new Float64Array(taps);
    for (let j = 0; j < taps; j++) {
      const tau = p / phases + half - 1 - j;
      const r = tau / half;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const x = Math.PI * cutoff * tau;
      row[j] = (x === 0 ? 1 : Math.sin(x) / x) * window;
      sum += row[j]!;
    }
    for (let j = 0; j < taps; j++) table[p * taps + j] = row[j]! / sum;
  }

  return resamplerOf(fromRate, toRate, async (input, length) => {
    const out = new Float32Array(length);
    const size = input.length;
    let n = 0;
    let p = 0;
    for (let k = 0; k < length; k++) {
      // The server runs this on its event loop: a long phrase is converted in slices of a
      // few ms with other work (sockets, other sessions' audio) let in between.
      if (k > 0 && k % SLICE_OUTPUTS === 0) await nextTurn();
      const first = n - half + 1;
      const base = p * taps;
      let acc = 0;
      if (first >= 0 && first + taps <= size) {
        // Four partial sums let the multiply-adds overlap instead of waiting on one another.
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let j = 0;
        for (; j + 4 <= taps; j += 4) {
          acc += table[base + j]! * input[first + j]!;
          a1 += table[base + j + 1]! * input[first + j + 1]!;
          a2 += table[base + j + 2]! * input[first + j + 2]!;
          a3 += table[base + j + 3]! * input[first + j + 3]!;
        }
        for (; j < taps; j++) acc += table[base + j]! * input[first + j]!;
        acc += a1 + a2 + a3;
      } else {
        // Taps that fall outside the input meet silence.
        const end = Math.min(taps, size - first);
        for (let j = Math.max(0, -first); j < end; j++) acc += table[base + j]! * input[first + j]!;
      }
      out[k] = acc;
      p += step;
      while (p >= phases) {
        p -= phases;
        n++;
      }
    }
    return out;
  });
}
