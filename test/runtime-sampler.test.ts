import { describe, expect, it } from 'vitest';
import { emotionTable } from '../src/pipeline/synthesis/custom-emotions.js';
import { frameWeights, mixFromWeights } from '../src/pipeline/synthesis/emotion-mix.js';
import { Mulberry32 } from '../src/pipeline/synthesis/rng.js';
import { gridTime, runSampler, stepTime, type EstimatorBatch, type SamplerOptions } from '../src/pipeline/synthesis/sampler.js';
import { stepMixPlan, type StepMixPlan } from '../src/pipeline/synthesis/step-mix.js';
import type { VoiceManifest } from '../src/pipeline/voice/manifest.js';

const C = 2;
const T = 4;
const MU = Float32Array.from([0.5, 1, -1, 0, 2, 0.25, -0.5, 0]);
const MASK = Float32Array.from([1, 1, 1, 0]);
const BETA = { betaMin: 0.05, betaMax: 20 };
const beta = (t: number) => BETA.betaMin + (BETA.betaMax - BETA.betaMin) * t;

// A stand-in estimator whose score of row k is a constant per row: the tests can then
// predict every step exactly. It records copies: the sampler lends its buffers for the
// call only and rewrites x after it.
function constantEstimator(perRow: (emotion0: number) => number, calls: EstimatorBatch[] = []) {
  return async (batch: EstimatorBatch) => {
    calls.push({ ...batch, x: batch.x.slice(), mu: batch.mu.slice(), mask: batch.mask.slice(), emotions: batch.emotions.slice() });
    const dim = batch.emotions.length / batch.rows;
    const out = new Float32Array(batch.rows * C * T);
    for (let k = 0; k < batch.rows; k++) out.fill(perRow(batch.emotions[k * dim]!), k * C * T, (k + 1) * C * T);
    return out;
  };
}

const VOICE = {
  embeddingDim: 2,
  emotions: [
    { name: 'neutral', centroid: Float32Array.from([1, 0]) },
    { name: 'happy', centroid: Float32Array.from([2, 0]) },
    { name: 'sad', centroid: Float32Array.from([3, 0]) },
  ],
  speakerDim: 0,
  speakers: [{ id: 'default', name: 'default', embedding: new Float32Array(0), emotions: [] }],
} as unknown as VoiceManifest;
const TABLE = emotionTable(VOICE);

function plan(weights: Record<string, number>, extra: Partial<Parameters<typeof stepMixPlan>[0]> = {}): StepMixPlan {
  return stepMixPlan({ table: TABLE, dim: 2, weights: frameWeights([{ atMs: 0, from: mixFromWeights(weights, TABLE) }], T, 10), realFrames: 3, mode: 'score', ...extra });
}

function options(overrides: Partial<SamplerOptions>): SamplerOptions {
  return {
    mu: MU, mask: MASK, channels: C, frames: T, steps: 1, temperature: 1.5, solver: 'ode', ...BETA,
    rng: new Mulberry32(11), plan: plan({ neutral: 1 }), estimate: constantEstimator(() => 0), ...overrides,
  };
}

function initialNoise(seed: number, temperature: number): number[] {
  const eps = new Mulberry32(seed).fillNormal(new Float32Array(C * T));
  return Array.from(MU, (mu, i) => (mu + eps[i]! / temperature) * MASK[i % T]!);
}

describe('runSampler', () => {
  it('uses midpoint times t_i = 1 − (i + ½)/N', () => {
    expect([0, 1, 2, 3].map((i) => stepTime(i, 4))).toEqual([0.875, 0.625, 0.375, 0.125]);
  });

  it('takes one ODE step from the masked z = μ + ε/τ', async () => {
    const { mel } = await runSampler(options({ estimate: constantEstimator(() => 0.3) }));
    const z = initialNoise(11, 1.5);
    const b = beta(0.5);
    z.forEach((x, i) => expect(mel[i]).toBeCloseTo((x - 0.5 * (MU[i]! - x - 0.3) * b) * MASK[i % T]!, 5));
    expect(mel[3]).toBe(0);
  });

  it('passes x, μ, mask, t and one emotion row per step to the estimator', async () => {
    const calls: EstimatorBatch[] = [];
    await runSampler(options({ steps: 3, estimate: constantEstimator(() => 0, calls) }));
    expect(calls.map((c) => c.t)).toEqual([stepTime(0, 3), stepTime(1, 3), stepTime(2, 3)]);
    expect(calls.every((c) => c.rows === 1 && c.channels === C && c.frames === T)).toBe(true);
    expect(Array.from(calls[0]!.x)).toEqual(initialNoise(11, 1.5).map(Math.fround));
    expect(Array.from(calls[0]!.mu)).toEqual(Array.from(MU));
    expect(Array.from(calls[0]!.mask)).toEqual(Array.from(MASK));
  });

  it('mixes the rows’ scores with the per-frame weights', async () => {
    const calls: EstimatorBatch[] = [];
    // Row scores: neutral (e0 = 1) → 1, happy (e0 = 2) → 2; weights 0.25 / 0.75 → s = 1.75.
    const { mel } = await runSampler(options({ plan: plan({ neutral: 1, happy: 3 }), estimate: constantEstimator((e) => e, calls) }));
    expect(calls[0]!.rows).toBe(2);
    expect(Array.from(calls[0]!.emotions)).toEqual([1, 0, 2, 0]);
    const z = initialNoise(11, 1.5);
    z.forEach((x, i) => expect(mel[i]).toBeCloseTo((x - 0.5 * (MU[i]! - x - 1.75) * beta(0.5)) * MASK[i % T]!, 5));
  });

  it('asks for every emotion of a mix in one estimator call per step', async () => {
    const calls: EstimatorBatch[] = [];
    await runSampler(options({ steps: 3, plan: plan({ neutral: 1, happy: 1, sad: 2 }), estimate: constantEstimator(() => 0, calls) }));
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(Array.from(call.emotions).filter((_, i) => i % 2 === 0)).toEqual([1, 2, 3]);
    expect(calls.every((c) => c.rows === 3)).toBe(true);
  });

  it('in embedding mode sends one row with the mixed embedding', async () => {
    const calls: EstimatorBatch[] = [];
    await runSampler(options({ plan: plan({ neutral: 1, happy: 3 }, { mode: 'embedding' }), estimate: constantEstimator(() => 0, calls) }));
    expect(calls[0]!.rows).toBe(1);
    expect(Array.from(calls[0]!.emotions)).toEqual([1.75, 0]);
  });

  it('follows the schedule: primary above tMax, the mix between, secondary below tMin', async () => {
    const calls: EstimatorBatch[] = [];
    const schedule = { primary: 'happy', secondary: 'sad', tMax: 0.7, tMin: 0.3 };
    await runSampler(options({ steps: 4, plan: plan({ neutral: 1, happy: 1 }, { schedule }), estimate: constantEstimator(() => 0, calls) }));
    // t = 0.875, 0.625, 0.375, 0.125
    expect(calls.map((c) => Array.from(c.emotions).filter((_, i) => i % 2 === 0))).toEqual([[2], [1, 2], [1, 2], [3]]);
  });

  it('draws the stochastic solver’s ξ after ε, one tensor per step', async () => {
    const { mel } = await runSampler(options({ solver: 'sde', estimate: constantEstimator(() => -0.2) }));
    const rng = new Mulberry32(11);
    const eps = rng.fillNormal(new Float32Array(C * T));
    const xi = rng.fillNormal(new Float32Array(C * T));
    const b = beta(0.5);
    Array.from(MU).forEach((mu, i) => {
      const x = (mu + eps[i]! / 1.5) * MASK[i % T]!;
      const expected = (x - ((0.5 * (mu - x) + 0.2) * b + Math.sqrt(b) * xi[i]!)) * MASK[i % T]!;
      expect(mel[i]).toBeCloseTo(expected, 5);
    });
  });

  it('heun: two calls per step at t_k and t_k+1, one in the last step, every row in each', async () => {
    const calls: EstimatorBatch[] = [];
    const { stepMs } = await runSampler(options({ solver: 'heun', steps: 4, plan: plan({ neutral: 1, happy: 1, sad: 2 }), estimate: constantEstimator(() => 0, calls) }));
    expect(calls.map((c) => c.t)).toEqual([1, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25]);
    expect(calls.every((c) => c.rows === 3)).toBe(true);
    expect(stepMs).toHaveLength(7);
    expect([0, 1, 2, 3, 4].map((k) => gridTime(k, 4))).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it('heun: averages the drifts at both ends, the predictor feeding the second call, and ends with Euler', async () => {
    const calls: EstimatorBatch[] = [];
    const { mel } = await runSampler(options({ solver: 'heun', steps: 2, estimate: constantEstimator(() => 0.3, calls) }));
    const h = 0.5;
    const drift = (mu: number, x: number, t: number) => 0.5 * (mu - x - 0.3) * beta(t);
    initialNoise(11, 1.5).forEach((x0, i) => {
      const m = MASK[i % T]!;
      const d0 = drift(MU[i]!, x0, 1);
      const predicted = (x0 - d0 * h) * m;
      expect(calls[1]!.x[i]).toBeCloseTo(predicted, 5);
      const x1 = (x0 - 0.5 * (d0 + drift(MU[i]!, predicted, 0.5)) * h) * m;
      expect(calls[2]!.x[i]).toBeCloseTo(x1, 5);
      expect(mel[i]).toBeCloseTo((x1 - drift(MU[i]!, x1, 0.5) * h) * m, 4);
    });
    expect(mel[3]).toBe(0);
  });

  it('heun: picks each call’s emotions by that call’s t under a schedule', async () => {
    const calls: EstimatorBatch[] = [];
    const schedule = { primary: 'happy', secondary: 'sad', tMax: 0.8, tMin: 0.3 };
    await runSampler(options({ solver: 'heun', steps: 4, plan: plan({ neutral: 1, happy: 1 }, { schedule }), estimate: constantEstimator(() => 0, calls) }));
    // t = 1 | 0.75, 0.75 | 0.5, 0.5 | 0.25, 0.25
    expect(calls.map((c) => Array.from(c.emotions).filter((_, i) => i % 2 === 0))).toEqual([[2], [1, 2], [1, 2], [1, 2], [1, 2], [3], [3]]);
  });

  it('stops between steps once the signal is aborted', async () => {
    const controller = new AbortController();
    const calls: EstimatorBatch[] = [];
    const estimate = async (batch: EstimatorBatch) => {
      const scores = await constantEstimator(() => 0, calls)(batch);
      controller.abort();
      return scores;
    };
    await expect(runSampler(options({ steps: 5, estimate, signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toHaveLength(1);
  });
});
