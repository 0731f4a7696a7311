// The EmoMix reverse-diffusion loop (CONTRACT.md, "Sampler"). Its arithmetic is a few
// multiply-adds per mel value per step, so it runs on the calling thread; the estimator
// itself is injected and runs wherever `estimate` sends it.
import type { Solver } from '../voice/manifest.js';
import { throwIfAborted } from './errors.js';
import type { StepMix, StepMixPlan } from './step-mix.js';

/**
 * One estimator call: `rows` emotion rows sharing one x, μ and mask. The buffers are lent
 * for the call only: the estimator reads them before its promise settles and keeps none.
 * runSampler lends views of SharedArrayBuffers, which reach a worker without a copy.
 */
export interface EstimatorBatch {
  channels: number;
  frames: number;
  /** [channels, frames] */
  x: Float32Array;
  /** [channels, frames] */
  mu: Float32Array;
  /** [frames] */
  mask: Float32Array;
  t: number;
  rows: number;
  /** [rows, embeddingDim + speakerDim] */
  emotions: Float32Array;
}

/** Resolves to the scores, [rows, channels, frames]. */
export type Estimate = (batch: EstimatorBatch) => Promise<Float32Array>;

/** Where the sampler's standard normals come from: the contract's Mulberry32 in production. */
export interface NormalSource {
  fillNormal(out: Float32Array): Float32Array;
}

export interface SamplerOptions {
  /** [channels, frames], zero in padded frames. */
  mu: Float32Array;
  /** [frames], 1 for real frames and 0 for padding. */
  mask: Float32Array;
  channels: number;
  frames: number;
  steps: number;
  temperature: number;
  solver: Solver;
  betaMin: number;
  betaMax: number;
  /** Draws ε first, then (sde) each step's ξ. */
  rng: NormalSource;
  plan: StepMixPlan;
  estimate: Estimate;
  signal?: AbortSignal;
}

export interface SamplerOutput {
  /** [channels, frames] */
  mel: Float32Array;
  /** Wall time of each estimator call, in ms: one per step, but 2N − 1 for 'heun'. */
  stepMs: number[];
}

/**
 * t_i = 1 − (i + ½)·h, the midpoint of step i on the way from t = 1 to t = 0. Computed
 * with h = 1/N first, as the recipe does, so that a t_i landing on a schedule bound
 * rounds to the same side of it in both.
 */
export function stepTime(i: number, steps: number): number {
  const h = 1 / steps;
  return 1 - (i + 0.5) * h;
}

/** t_k = 1 − k/N, the ends of Heun's steps (k = 0…N). */
export function gridTime(k: number, steps: number): number {
  return 1 - k / steps;
}

/**
 * Σ_k w_k[frame]·s_k (into `mixed` when given), or the single row's score when there is
 * one row of weight 1.
 */
export function mixScores(
  scores: Float32Array,
  rows: number,
  channels: number,
  frames: number,
  weights: Float64Array | undefined,
  mixed?: Float32Array,
): Float32Array {
  const size = channels * frames;
  if (!weights) return scores.subarray(0, size);
  mixed ??= new Float32Array(size);
  for (let c = 0; c < channels; c++) {
    for (let f = 0; f < frames; f++) {
      let s = 0;
      for (let k = 0; k < rows; k++) s += weights[k * frames + f]! * scores[k * size + c * frames + f]!;
      mixed[c * frames + f] = s;
    }
  }
  return mixed;
}

function sharedArray(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

function shared(values: Float32Array): Float32Array {
  const out = sharedArray(values.length);
  out.set(values);
  return out;
}

export async function runSampler(opts: SamplerOptions): Promise<SamplerOutput> {
  const { channels, frames, steps, temperature, solver, betaMin, betaMax, rng, plan, estimate, signal } = opts;
  const size = channels * frames;
  // μ, the mask and each mix's embeddings are fixed for the run and x is rewritten in place
  // between calls, so every call lends the same shared buffers instead of fresh copies.
  const mu = shared(opts.mu);
  const mask = shared(opts.mask);
  const x = rng.fillNormal(sharedArray(size));
  for (let c = 0, i = 0; c < channels; c++) for (let f = 0; f < frames; f++, i++) x[i] = (mu[i]! + x[i]! / temperature) * mask[f]!;
  const embeddings = new Map<StepMix, Float32Array>();
  const mixed = new Float32Array(size);
  const stepMs: number[] = [];
  const beta = (t: number) => betaMin + (betaMax - betaMin) * t;

  /** The mixed score at x and diffusion time t: one estimator call with every row of the plan's mix at t. */
  async function score(t: number): Promise<Float32Array> {
    throwIfAborted(signal);
    const mix = plan.at(t);
    let emotions = embeddings.get(mix);
    if (!emotions) embeddings.set(mix, (emotions = shared(mix.emotions)));
    const started = performance.now();
    const scores = await estimate({ channels, frames, x, mu, mask, t, rows: mix.rows, emotions });
    stepMs.push(performance.now() - started);
    return mixScores(scores, mix.rows, channels, frames, mix.weights, mixed);
  }

  const h = 1 / steps;
  if (solver === 'heun') {
    // x_k stays here while x holds the predictor for the second call.
    const start = new Float32Array(size);
    const drift = new Float32Array(size);
    for (let k = 0; k < steps; k++) {
      const t = gridTime(k, steps);
      const s = await score(t);
      const bt = beta(t);
      start.set(x);
      for (let c = 0, j = 0; c < channels; c++) {
        for (let f = 0; f < frames; f++, j++) {
          drift[j] = 0.5 * (mu[j]! - x[j]! - s[j]!) * bt;
          x[j] = (x[j]! - drift[j]! * h) * mask[f]!;
        }
      }
      // The score at t = 0 is unbounded (the noise std is 0 there) and the estimator never
      // saw t below 1e-5 in training, so the last step ends with the Euler predictor.
      if (k === steps - 1) break;
      const next = gridTime(k + 1, steps);
      const sNext = await score(next);
      const bn = beta(next);
      for (let c = 0, j = 0; c < channels; c++) {
        for (let f = 0; f < frames; f++, j++) {
          const d = 0.5 * (drift[j]! + 0.5 * (mu[j]! - x[j]! - sNext[j]!) * bn);
          x[j] = (start[j]! - d * h) * mask[f]!;
        }
      }
    }
  } else {
    const noise = solver === 'sde' ? new Float32Array(size) : undefined;
    for (let i = 0; i < steps; i++) {
      const t = stepTime(i, steps);
      const s = await score(t);
      const betaH = beta(t) * h;
      if (noise) {
        rng.fillNormal(noise);
        const sqrtBetaH = Math.sqrt(betaH);
        for (let c = 0, j = 0; c < channels; c++) {
          for (let f = 0; f < frames; f++, j++) {
            const dx = (0.5 * (mu[j]! - x[j]!) - s[j]!) * betaH + sqrtBetaH * noise[j]!;
            x[j] = (x[j]! - dx) * mask[f]!;
          }
        }
      } else {
        for (let c = 0, j = 0; c < channels; c++) {
          for (let f = 0; f < frames; f++, j++) {
            const dx = 0.5 * (mu[j]! - x[j]! - s[j]!) * betaH;
            x[j] = (x[j]! - dx) * mask[f]!;
          }
        }
      }
    }
  }
  throwIfAborted(signal);
  // A plain copy: callers may transfer the result, which a shared buffer forbids.
  return { mel: x.slice(), stepMs };
}
