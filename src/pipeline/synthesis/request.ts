// A synthesis request as callers write it, and its checked, defaulted form.
import { randomInt } from 'node:crypto';
import { SOLVERS, type Solver, type VoiceManifest } from '../voice/manifest.js';
import { emotionTable, findSpeaker, type EmotionTable } from './custom-emotions.js';
import { CheckedMix, mixFromWeights, withIntensity, type Mix, type Ramp } from './emotion-mix.js';
import { SynthesisError } from './errors.js';
import type { Schedule } from './step-mix.js';

export const MAX_STEPS = 1000;
/**
 * How long a change inside a phrase takes at the least: long enough that the prior and
 * the scores do not jump between two frames, short enough that the next word is spoken
 * in its own emotion (docs/benchmarks.md, "Transition inside a phrase").
 */
export const DEFAULT_TRANSITION_MS = 100;

type Weights = Record<string, number> | CheckedMix;

export interface SynthesisRequest {
  /**
   * Emotion name → weight (≥ 0; scaled to sum 1). Names are the voice's or customEmotions'.
   * Every mix of a request may also be a CheckedMix, which is taken as it is.
   */
  weights: Weights;
  /** Per-frame move from `weights` to `to` over [startMs, endMs] of phrase time; may start before 0. */
  ramp?: { to: Weights; startMs: number; endMs: number };
  /**
   * Changes inside the phrase, in order: from spoken word `word` on (its index in the
   * phrase's words), the mix moves to `to` over `rampMs` of audio, or over the transition
   * when that is longer. The change anchors where the previous word ends, so pauses
   * before the word take the new mix; `word` 0 anchors at the phrase's first frame.
   */
  changes?: { word: number; to: Weights; rampMs: number }[];
  /** The shortest move between two mixes inside a phrase, in ms. Default DEFAULT_TRANSITION_MS. */
  transitionMs?: number;
  /** α in [0, 1]: every mix becomes (1 − α)·neutral + α·mix. Default 1. */
  intensity?: number;
  /** Diffusion steps, 1…1000. Default: the voice's. */
  steps?: number;
  /** τ > 0: the initial noise is ε/τ. Default: the voice's. */
  temperature?: number;
  /** 'ode' (Euler), 'sde' or 'heun' (2 estimator calls per step, 1 in the last). Default: the voice's. */
  solver?: Solver;
  /** Seed of the contract's RNG (a safe integer); random when absent. */
  seed?: number;
  /** Multiplies every phoneme's duration. Default: the voice's. */
  lengthScale?: number;
  /** EmoMix schedule in diffusion time: t > tMax primary only, t < tMin secondary only, the mix between. */
  schedule?: Schedule;
  /** 'score' (default): one estimator row per emotion; 'embedding': one row with the mixed embedding. */
  mode?: 'score' | 'embedding';
  /** Extra named emotion embeddings (for instance from embedReference). */
  customEmotions?: Record<string, Float32Array>;
  /** One of the voice's speakers (voice.json `speakers[].id`). Default: its first. */
  speaker?: string;
  /**
   * performance.now() by which the audio is wanted (when the listener would reach it). Under
   * load, inference of an earlier deadline goes first. Default: when called.
   */
  deadline?: number;
  signal?: AbortSignal;
  /**
   * The rate of the audio returned, converted in the inference worker (a polyphase filter,
   * src/stream/polyphase.ts) rather than on the caller's thread. Default: the voice's.
   */
  sampleRate?: number;
}

export interface EmotionChange {
  word: number;
  to: Mix;
  rampMs: number;
}

export interface ResolvedRequest {
  table: EmotionTable;
  from: Mix;
  ramp?: Ramp;
  changes: EmotionChange[];
  transitionMs: number;
  steps: number;
  temperature: number;
  solver: Solver;
  seed: number;
  lengthScale: number;
  schedule?: Schedule;
  mode: 'score' | 'embedding';
  deadline?: number;
  signal?: AbortSignal;
  sampleRate?: number;
}

function invalid(message: string): never {
  throw new SynthesisError('REQUEST_INVALID', message);
}

function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(`${field} must be a finite number, got ${String(value)}`);
  return value;
}

function positive(value: unknown, field: string): number {
  if (finite(value, field) <= 0) invalid(`${field} must be greater than 0, got ${String(value)}`);
  return value as number;
}

export function resolveRequest(voice: VoiceManifest, request: SynthesisRequest): ResolvedRequest {
  if (typeof request !== 'object' || request === null) invalid('the request must be an object');
  if (request.speaker !== undefined && typeof request.speaker !== 'string') invalid(`speaker must be a string, got ${String(request.speaker)}`);
  const table = emotionTable(voice, request.customEmotions, findSpeaker(voice, request.speaker));
  const intensity = request.intensity ?? 1;
  if (finite(intensity, 'intensity') < 0 || intensity > 1) invalid(`intensity must lie in [0, 1], got ${intensity}`);
  const mix = (weights: Weights, field: string) =>
    withIntensity(weights instanceof CheckedMix ? weights : mixFromWeights(weights, table, field), voice.neutral, intensity);

  let ramp: Ramp | undefined;
  if (request.ramp !== undefined) {
    const { to, startMs, endMs } = request.ramp;
    if (finite(endMs, 'ramp.endMs') < finite(startMs, 'ramp.startMs')) invalid(`ramp.endMs (${endMs}) must not precede ramp.startMs (${startMs})`);
    ramp = { to: mix(to, 'ramp.to'), startMs, endMs };
  }

  const changes = (request.changes ?? []).map(({ word, to, rampMs }, k): EmotionChange => {
    if (!Number.isInteger(word) || word < 0) invalid(`changes.${k}.word must be an integer ≥ 0, got ${String(word)}`);
    if (finite(rampMs, `changes.${k}.rampMs`) < 0) invalid(`changes.${k}.rampMs must be ≥ 0, got ${rampMs}`);
    return { word, to: mix(to, `changes.${k}.to`), rampMs };
  });
  if (changes.some((c, k) => k > 0 && c.word < changes[k - 1]!.word)) invalid('changes must be in order of their words');
  const transitionMs = request.transitionMs ?? DEFAULT_TRANSITION_MS;
  if (finite(transitionMs, 'transitionMs') < 0) invalid(`transitionMs must be ≥ 0, got ${transitionMs}`);

  const steps = request.steps ?? voice.diffusion.steps;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) invalid(`steps must be an integer from 1 to ${MAX_STEPS}, got ${steps}`);
  const solver = request.solver ?? voice.diffusion.solver;
  if (!SOLVERS.includes(solver)) invalid(`solver must be one of ${SOLVERS.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(solver)}`);
  const mode = request.mode ?? 'score';
  if (mode !== 'score' && mode !== 'embedding') invalid(`mode must be "score" or "embedding", got ${JSON.stringify(mode)}`);
  const seed = request.seed ?? randomInt(2 ** 32);
  if (!Number.isSafeInteger(seed)) invalid(`seed must be a safe integer, got ${seed}`);

  const { sampleRate } = request;
  if (sampleRate !== undefined && (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 192_000)) invalid(`sampleRate must be an integer from 1000 to 192000 Hz, got ${sampleRate}`);

  let schedule: Schedule | undefined;
  if (request.schedule !== undefined) {
    const { primary, secondary, tMax, tMin } = request.schedule;
    for (const [field, name] of [['schedule.primary', primary], ['schedule.secondary', secondary]] as const) {
      if (!table.has(name)) throw new SynthesisError('EMOTION_UNKNOWN', `${field}: unknown emotion "${name}"`);
    }
    if (finite(tMin, 'schedule.tMin') > finite(tMax, 'schedule.tMax')) invalid(`schedule.tMin (${tMin}) must not exceed schedule.tMax (${tMax})`);
    schedule = { primary, secondary, tMax, tMin };
  }

  return {
    table,
    from: mix(request.weights, 'weights'),
    ...(ramp ? { ramp } : {}),
    changes,
    transitionMs,
    steps,
    temperature: positive(request.temperature ?? voice.diffusion.temperature, 'temperature'),
    solver,
    seed,
    lengthScale: positive(request.lengthScale ?? voice.diffusion.lengthScale, 'lengthScale'),
    ...(schedule ? { schedule } : {}),
    mode,
    ...(request.deadline !== undefined ? { deadline: finite(request.deadline, 'deadline') } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(sampleRate !== undefined ? { sampleRate } : {}),
  };
}
