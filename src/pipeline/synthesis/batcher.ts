// Cross-session batching of estimator calls. Every session mid-synthesis calls the
// estimator once per diffusion step; the calls that meet here go to onnxruntime as one
// call per length group, shorter utterances zero-padded to the longest of their group
// with mask 0. That is exact only for estimators that multiply every hidden layer by the
// mask (the `dilated1d` preset): elsewhere padding would shift normalisation statistics,
// so other presets group equal lengths only.
import type { Estimate, EstimatorBatch } from './sampler.js';
import type { Urgency } from './worker-pool.js';

/** Presets whose output on real frames does not depend on padding after them. */
const PADDING_EXACT_PRESETS: ReadonlySet<string> = new Set(['dilated1d']);

export interface BatcherOptions {
  /** One estimator call over several batches (frames may differ); resolves to one score array per batch, unpadded. */
  run(batches: EstimatorBatch[], urgency: Required<Urgency>): Promise<Float32Array[]>;
  /** Calls in flight at once: the workers that can run them. */
  concurrency: number;
  /** Longest a step waits for other sessions' steps to join it, in ms. */
  maxWaitMs: number;
  /** Emotion rows per call, at most (a single batch with more rows still runs alone). */
  maxRows: number;
  /** Longest over shortest frame count within one call, at most; 1 groups equal lengths only. */
  maxPadRatio: number;
}

export const DEFAULT_BATCH_WAIT_MS = 2;
export const DEFAULT_BATCH_ROWS = 16;
// At most a quarter of a padded call is padding (frames 1.33× the shortest).
const DEFAULT_PAD_RATIO = 4 / 3;

export function batcherDefaults(preset: string): Pick<BatcherOptions, 'maxWaitMs' | 'maxRows' | 'maxPadRatio'> {
  return { maxWaitMs: DEFAULT_BATCH_WAIT_MS, maxRows: DEFAULT_BATCH_ROWS, maxPadRatio: PADDING_EXACT_PRESETS.has(preset) ? DEFAULT_PAD_RATIO : 1 };
}

interface Pending {
  batch: EstimatorBatch;
  arrived: number;
  /** When its session wants the result (performance.now()); the arrival time when it did not say. */
  deadline: number;
  resolve(scores: Float32Array): void;
  reject(error: unknown): void;
}

/**
 * Splits waiting batches into calls: sorted by length, a call takes batches while the
 * longest stays within `maxPadRatio` of its shortest and its rows within `maxRows`.
 * Calls come back by their earliest deadline, so that the most urgent goes first and, as
 * deadlines default to arrival times, no length starves.
 */
export function groupByLength<T extends { batch: EstimatorBatch; deadline: number }>(items: readonly T[], maxRows: number, maxPadRatio: number): T[][] {
  const sorted = [...items].sort((a, b) => a.batch.frames - b.batch.frames || a.deadline - b.deadline);
  const groups: T[][] = [];
  let group: T[] = [];
  let rows = 0;
  for (const item of sorted) {
    const first = group[0];
    if (first && (item.batch.frames > first.batch.frames * maxPadRatio || rows + item.batch.rows > maxRows)) {
      groups.push(group);
      group = [];
      rows = 0;
    }
    group.push(item);
    rows += item.batch.rows;
  }
  if (group.length > 0) groups.push(group);
  return groups.sort((a, b) => earliest(a) - earliest(b));
}

function earliest(group: readonly { deadline: number }[]): number {
  return Math.min(...group.map((item) => item.deadline));
}

export class EstimatorBatcher {
  private pending: Pending[] = [];
  /** Calls in flight. */
  private calls = 0;
  /** Samplers running (inside `session`). */
  private active = 0;
  /** Samplers whose step is in a call in flight. */
  private busy = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BatcherOptions) {}

  /**
   * Runs one sampler, whose steps are wanted by `urgency.deadline` (by default, each at its
   * arrival). While it runs, the batcher knows a step of it may be about to arrive, which is
   * what makes waiting for it worthwhile; when every running sampler's step is already
   * waiting or in flight, a step goes at once.
   */
  async session<T>(sample: (estimate: Estimate) => Promise<T>, urgency: Urgency = {}): Promise<T> {
    this.active++;
    try {
      return await sample((batch) => this.estimate(batch, urgency));
    } finally {
      this.active--;
      this.schedule();
    }
  }

  private estimate(batch: EstimatorBatch, { deadline }: Urgency): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      const arrived = performance.now();
      this.pending.push({ batch, arrived, deadline: deadline ?? arrived, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.calls >= this.options.concurrency) return;
    const expected = this.active - this.pending.length - this.busy;
    const rows = this.pending.reduce((n, p) => n + p.batch.rows, 0);
    if (expected > 0 && rows < this.options.maxRows) {
      // The wait is counted from the oldest step waiting, so no step waits longer in total.
      const left = this.pending[0]!.arrived + this.options.maxWaitMs - performance.now();
      if (left > 0) {
        this.timer ??= setTimeout(() => this.flush(), left);
        return;
      }
    }
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const free = this.options.concurrency - this.calls;
    if (free <= 0) return;
    // Spread the rows over the free workers rather than piling them onto one.
    const rows = this.pending.reduce((n, p) => n + p.batch.rows, 0);
    const perCall = Math.min(this.options.maxRows, Math.ceil(rows / free));
    const groups = groupByLength(this.pending, perCall, this.options.maxPadRatio);
    const sent = new Set<Pending>();
    for (const group of groups.slice(0, free)) {
      this.send(group);
      for (const p of group) sent.add(p);
    }
    this.pending = this.pending.filter((p) => !sent.has(p));
  }

  private send(group: Pending[]): void {
    this.calls++;
    this.busy += group.length;
    this.options.run(group.map((p) => p.batch), { deadline: earliest(group) }).then(
      (scores) => group.forEach((p, i) => p.resolve(scores[i]!)),
      (error: unknown) => group.forEach((p) => p.reject(error)),
    ).finally(() => {
      this.calls--;
      this.busy -= group.length;
      this.schedule();
    });
  }
}

/** What one estimator call receives: every batch's rows stacked, each padded to `frames`. */
export interface PackedEstimatorInput {
  rows: number;
  channels: number;
  frames: number;
  dim: number;
  /** [rows, channels, frames] */
  x: Float32Array;
  /** [rows, channels, frames] */
  mu: Float32Array;
  /** [rows, 1, frames]: each batch's own mask, then 0 over the padding. */
  mask: Float32Array;
  /** [rows] */
  t: Float32Array;
  /** [rows, dim] */
  emotion: Float32Array;
}

/**
 * Stacks the batches' rows for one call, padded to the longest batch. `alloc` supplies
 * the output arrays (a worker reuses its own between calls); their contents are overwritten.
 */
export function packBatches(batches: readonly EstimatorBatch[], alloc: (name: keyof PackedEstimatorInput, length: number) => Float32Array = (_, n) => new Float32Array(n)): PackedEstimatorInput {
  const first = batches[0];
  if (!first) throw new RangeError('an estimator call needs at least one batch');
  const { channels } = first;
  const dim = first.emotions.length / first.rows;
  let rows = 0;
  let frames = 0;
  for (const b of batches) {
    if (b.channels !== channels || b.emotions.length !== b.rows * dim) throw new RangeError('estimator batches in one call must share channels and embedding size');
    rows += b.rows;
    frames = Math.max(frames, b.frames);
  }
  const size = channels * frames;
  const x = alloc('x', rows * size);
  const mu = alloc('mu', rows * size);
  const mask = alloc('mask', rows * frames);
  const t = alloc('t', rows);
  const emotion = alloc('emotion', rows * dim);
  let row = 0;
  for (const b of batches) {
    emotion.set(b.emotions, row * dim);
    for (let k = 0; k < b.rows; k++, row++) {
      copyPadded(b.x, x, row * size, channels, b.frames, frames);
      copyPadded(b.mu, mu, row * size, channels, b.frames, frames);
      copyPadded(b.mask, mask, row * frames, 1, b.frames, frames);
      t[row] = b.t;
    }
  }
  return { rows, channels, frames, dim, x, mu, mask, t, emotion };
}

/** [channels, from] → [channels, to] at `offset` of `out`, zeros after each channel's frames. */
function copyPadded(src: Float32Array, out: Float32Array, offset: number, channels: number, from: number, to: number): void {
  if (from === to) {
    out.set(src.subarray(0, channels * to), offset);
    return;
  }
  for (let c = 0; c < channels; c++) {
    out.set(src.subarray(c * from, (c + 1) * from), offset + c * to);
    out.fill(0, offset + c * to + from, offset + (c + 1) * to);
  }
}

/** The scores of a packed call, [rows, channels, frames], back as one unpadded [rows, channels, batch frames] array per batch. */
export function splitScores(score: Float32Array, batches: readonly EstimatorBatch[], frames: number): Float32Array[] {
  let offset = 0;
  return batches.map((b) => {
    const out = new Float32Array(b.rows * b.channels * b.frames);
    for (let k = 0; k < b.rows; k++) {
      for (let c = 0; c < b.channels; c++, offset += frames) out.set(score.subarray(offset, offset + b.frames), (k * b.channels + c) * b.frames);
    }
    return out;
  });
}
