// What the estimator is asked at each diffusion step: which emotion rows, and how
// their scores are weighted per frame. This is where EmoMix's two mixing modes and
// its primary→secondary schedule live.
import type { EmotionTable } from './custom-emotions.js';
import { averageMix, mixEmbedding, type FrameWeights, type Mix } from './emotion-mix.js';

export interface StepMix {
  rows: number;
  /** [rows, embeddingDim + speakerDim], row-major. */
  emotions: Float32Array;
  /** [rows, frames]: each row's weight per frame; absent when there is one row of weight 1. */
  weights?: Float64Array;
}

export interface Schedule {
  primary: string;
  secondary: string;
  tMax: number;
  tMin: number;
}

export interface StepMixPlan {
  /** The mix for diffusion time t. */
  at(t: number): StepMix;
}

function single(embedding: Float32Array): StepMix {
  return { rows: 1, emotions: embedding };
}

/**
 * mode 'score': one estimator row per emotion, scores mixed per frame (EmoMix).
 * mode 'embedding': one row whose embedding is the weight-mixed one, weights averaged
 * over the `realFrames` frames (cheaper: one row per step whatever the mix).
 * With a schedule, steps with t > tMax use only the primary emotion, steps with
 * t < tMin only the secondary, and the steps between the weighted mix.
 */
export function stepMixPlan(opts: {
  table: EmotionTable;
  dim: number;
  weights: FrameWeights;
  realFrames: number;
  mode: 'score' | 'embedding';
  schedule?: Schedule;
}): StepMixPlan {
  const { table, dim, weights, realFrames, mode, schedule } = opts;
  const mixed = mode === 'embedding' || weights.names.length === 1 ? single(mixEmbedding(averageMix(weights, realFrames), table, dim)) : scoreMix(weights, table, dim);
  if (!schedule) return { at: () => mixed };
  const oneHot = (name: string): StepMix => single(mixEmbedding(new Map([[name, 1]]) as Mix, table, dim));
  const primary = oneHot(schedule.primary);
  const secondary = oneHot(schedule.secondary);
  return { at: (t) => (t > schedule.tMax ? primary : t < schedule.tMin ? secondary : mixed) };
}

function scoreMix(weights: FrameWeights, table: EmotionTable, dim: number): StepMix {
  const rows = weights.names.length;
  const emotions = new Float32Array(rows * dim);
  weights.names.forEach((name, k) => emotions.set(table.get(name)!, k * dim));
  return { rows, emotions, weights: weights.data };
}
